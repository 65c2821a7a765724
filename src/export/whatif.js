// The report's live what-if (src/export/whatif.rs writes the panel and the
// data; src/whatif.rs builds the data). The solver mirrors src/quota.rs
// step by step: bounds() is quota.rs `bounds`, checkReachable() is
// `check_reachable`, solve() is `solve`, setQuotas() is `set_quotas` (the
// blend) and attain() is `fairness`'s attainment probability.
// tests/whatif_browser.rs keeps the two in step.
(function () {
  'use strict';
  var dataNode = document.getElementById('whatif-data');
  if (!dataNode) return;
  var D = JSON.parse(dataNode.textContent);
  var L = D.levels;
  var METHODS = ['equal-probability', 'historical-share', 'potential-share', 'blend'];

  function decode(t) { // src/whatif.rs `decode`
    var out = new Array(t.steps.length), k = 0;
    for (var i = 0; i < t.steps.length; i++) { k += t.steps[i]; out[i] = k * t.unit; }
    return out;
  }
  var company = decode(D.company);
  var T = D.territories.map(function (t) {
    return { name: t.name, q: decode(t.q), base: t.base, lastYear: t.last_year,
      potential: t.potential, floor: t.floor, cap: t.cap, locked: t.locked, quarters: t.quarters };
  });

  // The empirical quantile function, linear between the table's levels.
  function quantile(q, level) {
    var x = Math.min(Math.max(level, 0), 1) * (L - 1);
    var i = Math.min(Math.floor(x), L - 2);
    return q[i] + (q[i + 1] - q[i]) * (x - i);
  }
  // Share of trials at or above v: one minus the lowest level whose
  // quantile reaches v (quota.rs `fairness` counts totals >= quota).
  function attain(q, v) {
    if (v <= q[0]) return 1;
    if (v > q[L - 1]) return 0;
    var lo = 0, hi = L - 1; // q[lo] < v <= q[hi]
    while (hi - lo > 1) { var mid = (lo + hi) >> 1; if (q[mid] < v) lo = mid; else hi = mid; }
    var level = (lo + (v - q[lo]) / (q[hi] - q[lo])) / (L - 1);
    return 1 - level;
  }
  function fmt0(x) { return isFinite(x) ? Math.round(x).toFixed(0) : ''; }

  // quota.rs `bounds`.
  function bounds(maxChange) {
    return T.map(function (t) {
      var b = { lo: 0, hi: Infinity, loBy: 'zero', hiBy: 'max_change' };
      if (maxChange !== null && t.base > 0) {
        b.lo = t.base * Math.max(1 - maxChange, 0);
        b.hi = t.base * (1 + maxChange);
        b.loBy = 'max_change';
      }
      if (t.floor !== null && t.floor > b.lo) { b.lo = t.floor; b.loBy = 'floor'; }
      if (t.cap !== null && t.cap < b.hi) { b.hi = t.cap; b.hiBy = 'cap'; }
      if (t.locked !== null) b = { lo: t.locked, hi: t.locked, loBy: 'locked', hiBy: 'locked' };
      if (b.lo > b.hi) {
        throw new Error('territory ' + t.name + ': its quota must be at least ' + fmt0(b.lo) + ' (' + b.loBy +
          ') and at most ' + fmt0(b.hi) + ' (' + b.hiBy + '); loosen one of them');
      }
      return b;
    });
  }
  // quota.rs `check_reachable`.
  function checkReachable(bs, target) {
    var lo = 0, hi = 0;
    bs.forEach(function (b) { lo += b.lo; hi += b.hi; });
    if (target < lo - 1e-6 * Math.abs(lo) || target > hi + 1e-6 * Math.abs(hi)) {
      throw new Error('plan x (1 + over-assignment) = ' + fmt0(target) + ' cannot be reached within max_change and the ' +
        "quotas table's floors, caps and locks: the quotas can add up to " +
        (isFinite(hi) ? 'between ' + fmt0(lo) + ' and ' + fmt0(hi) : 'at least ' + fmt0(lo)) +
        '; change the plan or loosen the constraints');
    }
  }
  function clamp(v, b) { return Math.min(Math.max(v, b.lo), b.hi); }
  // quota.rs `Bound::holding`: the nearer end's constraint; where the ends
  // meet, the one a constraint set.
  function holding(b, q) {
    var toLo = Math.abs(q - b.lo), toHi = Math.abs(q - b.hi);
    return toLo < toHi || (toLo === toHi && b.loBy !== 'zero') ? b.loBy : b.hiBy;
  }
  function sum(xs) { var s = 0; for (var i = 0; i < xs.length; i++) s += xs[i]; return s; }

  // quota.rs `solve`: a one-parameter family of quotas, monotone in the
  // parameter, clamped, bisected until the clamped quotas add up.
  function solve(method, bs, target) {
    var n = T.length, raw;
    if (method === 'equal-probability') {
      raw = function (level) { return T.map(function (t) { return quantile(t.q, level); }); };
    } else {
      var w = T.map(function (t) { return Math.max(method === 'historical-share' ? t.lastYear : t.potential, 0); });
      var total = sum(w);
      var shares = w.map(function (x) { return total > 0 ? x / total : 1 / n; });
      raw = function (x) { return shares.map(function (s) { return s * target * 4 * x; }); };
    }
    var clamped = function (x) { return raw(x).map(function (v, i) { return clamp(v, bs[i]); }); };
    var sumAt = function (x) { return sum(clamped(x)); };
    var lo = 0, hi = 1, x;
    if (sumAt(lo) >= target) x = lo;
    else if (sumAt(hi) <= target) x = hi;
    else {
      for (var it = 0; it < 200; it++) {
        var mid = 0.5 * (lo + hi);
        if (sumAt(mid) < target) lo = mid; else hi = mid;
        if (hi - lo < 1e-15) break;
      }
      x = 0.5 * (lo + hi);
    }
    var unconstrained = raw(x), quotas = clamped(x);
    var binding = quotas.map(function (q, i) {
      var u = unconstrained[i], b = bs[i];
      if (Math.abs(q - u) <= 1e-9 * Math.max(Math.abs(u), 1)) return null;
      return holding(b, q);
    });
    // The bisection's rounding residue goes to the quotas no bound holds.
    var all = sum(quotas), free = 0;
    quotas.forEach(function (q, i) { if (binding[i] === null) free += q; });
    if (free > 0) {
      var k = (target - (all - free)) / free;
      quotas = quotas.map(function (q, i) {
        if (binding[i] !== null) return q;
        var scaled = q * k, held = clamp(scaled, bs[i]);
        unconstrained[i] = scaled;
        if (held !== scaled) binding[i] = holding(bs[i], held);
        return held;
      });
    }
    var reached = sum(quotas);
    if (Math.abs(reached - target) > 1e-6 * Math.max(Math.abs(target), 1)) {
      throw new Error('plan x (1 + over-assignment) = ' + fmt0(target) + ' cannot be reached: the quotas can add up only ' +
        'to between ' + fmt0(sumAt(0)) + ' and ' + fmt0(sumAt(1)) + ', as the simulated revenue of the territories whose ' +
        'quotas are free is zero or does not vary');
    }
    return { quotas: quotas, unconstrained: unconstrained, binding: binding,
      probability: method === 'equal-probability' ? 1 - x : null };
  }

  // quota.rs `set_quotas`: the chosen method, or the blend of the methods.
  function setQuotas(s) {
    var target = s.plan * (1 + s.over);
    var bs = bounds(s.maxChange);
    checkReachable(bs, target);
    if (s.method !== 'blend') return solve(s.method, bs, target);
    var n = T.length, q = new Array(n).fill(0), unc = new Array(n).fill(0), solved = {};
    D.blend.forEach(function (mw) {
      var r = solved[mw[0]] || (solved[mw[0]] = solve(mw[0], bs, target));
      for (var i = 0; i < n; i++) { q[i] += mw[1] * r.quotas[i]; unc[i] += mw[1] * r.unconstrained[i]; }
    });
    var binding = T.map(function (_, i) {
      for (var j = 0; j < D.blend.length; j++) { var b = solved[D.blend[j][0]].binding[i]; if (b !== null) return b; }
      return null;
    });
    return { quotas: q, unconstrained: unc, binding: binding, probability: null };
  }

  // ---- the panel ----
  var el = function (id) { return document.getElementById(id); };
  var inputs = { plan: el('whatif-plan'), over: el('whatif-over'), method: el('whatif-method'), maxChange: el('whatif-max-change') };
  var scenario = { plan: D.plan, over: D.over_assignment, method: D.method, maxChange: D.max_change };
  var last = null;
  // The engine's result (quotas.csv), shown while the inputs are the scenario's.
  var engineResult = {
    quotas: D.engine.quotas, unconstrained: D.engine.unconstrained,
    binding: D.engine.binding.map(function (b) { return b || null; }), probability: D.engine.probability
  };
  function atScenario(s) {
    return s.plan === scenario.plan && s.over === scenario.over && s.method === scenario.method &&
      s.maxChange === scenario.maxChange;
  }

  function show(s) {
    inputs.plan.value = s.plan;
    inputs.over.value = s.over;
    inputs.method.value = s.method;
    inputs.maxChange.value = s.maxChange === null ? '' : s.maxChange;
  }
  // The scenario's ranges (src/scenario.rs check_quota): a plan above 0
  // and below 1e15, an over-assignment from 0 to 1, a max_change above 0.
  var RANGES = {
    plan: { ok: function (x) { return x > 0 && x < 1e15; }, expected: 'a plan greater than 0 and below 1e15' },
    over_assignment: { ok: function (x) { return x >= 0 && x <= 1; }, expected: 'a share from 0 to 1 such as 0.05' },
    max_change: { ok: function (x) { return x > 0; }, expected: 'a share greater than 0 such as 0.3, or empty for none' }
  };
  // The number `text` for the key `name`, or the message why not.
  function check(name, text) {
    var x = Number(text);
    if (text === '' || !isFinite(x) || !RANGES[name].ok(x)) {
      return { error: name + ': found "' + text + '", expected ' + RANGES[name].expected };
    }
    return { value: x };
  }
  function read() {
    var num = function (input, name, allowEmpty) {
      var v = input.value.trim();
      if (v === '' && allowEmpty) return null;
      var c = check(name, v);
      if (c.error) throw new Error(c.error);
      return c.value;
    };
    return { plan: num(inputs.plan, 'plan'), over: num(inputs.over, 'over_assignment'),
      method: inputs.method.value, maxChange: num(inputs.maxChange, 'max_change', true) };
  }
  function query(s) {
    var p = 'plan=' + s.plan + '&over_assignment=' + s.over + '&max_change=' + (s.maxChange === null ? 'none' : s.maxChange) +
      '&method=' + s.method;
    return '?' + p;
  }
  function pct(p) { return (100 * p).toFixed(1) + '%'; }
  function money(x) { return Math.round(x).toLocaleString('en-US'); }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; }); }

  function update() {
    var err = el('whatif-error'), body = el('whatif-quotas').tBodies[0];
    var s, r, probs;
    try {
      s = read();
      if (atScenario(s)) {
        r = engineResult;
        probs = D.engine.attain;
      } else {
        r = setQuotas(s);
        probs = r.quotas.map(function (q, i) { return attain(T[i].q, q); });
      }
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      body.innerHTML = '';
      el('whatif-result').hidden = true;
      last = null;
      return;
    }
    err.hidden = true;
    el('whatif-result').hidden = false;
    var share = sum(probs) / probs.length;
    var common = r.probability !== null ? r.probability : share;
    var pPlan = attain(company, s.plan), se = Math.sqrt(pPlan * (1 - pPlan) / D.trials);
    var set = function (id, value, text) { var x = el(id); x.dataset.value = value; x.textContent = text; };
    set('whatif-common', common.toFixed(6), pct(common));
    el('whatif-common-label').textContent = r.probability !== null
      ? 'Common chance of attaining (territories no constraint holds)' : 'Mean chance of attaining';
    set('whatif-plan-probability', pPlan.toFixed(6), pct(pPlan));
    set('whatif-plan-se', se.toFixed(6), '\u00b1' + (100 * se).toFixed(1) + ' points Monte Carlo error');
    set('whatif-share', share.toFixed(6), pct(share));
    set('whatif-total', sum(r.quotas).toFixed(2), money(sum(r.quotas)));
    var rows = [];
    for (var i = 0; i < T.length; i++) {
      var t = T[i], q = r.quotas[i];
      var change = t.lastYear > 0 ? pct(q / t.lastYear - 1) : '';
      rows.push('<tr><td>' + esc(t.name) + '</td><td class="n">' + money(t.lastYear) + '</td><td class="n">' +
        money(t.base) + '</td><td class="n">' +
        money(quantile(t.q, 0.5)) + '</td><td class="n quota" data-value="' + q.toFixed(2) + '">' + money(q) + '</td><td class="n">' + change +
        '</td><td class="n">' + pct(probs[i]) + '</td><td>' + (r.binding[i] || '') + '</td></tr>');
    }
    body.innerHTML = rows.join('');
    last = { s: s, r: r, probs: probs };
    var link = el('whatif-link');
    link.href = query(s);
    try { history.replaceState(null, '', query(s) + location.hash); } catch (e) { /* some browsers refuse on file:// */ }
  }

  // The download: quotas.csv's columns (territory rows; rep rows need the
  // rep-level simulation and are not recomputed here).
  function csv() {
    var cell = function (v) { v = String(v); return /[",\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v; };
    var m2 = function (x) { return isFinite(x) ? x.toFixed(2) : ''; };
    var lines = ['territory,rep,quota,last_year_actual,forecast_p50,attain_probability,binding,unconstrained_quota,quota_q1,quota_q2,quota_q3,quota_q4'];
    T.forEach(function (t, i) {
      var q = last.r.quotas[i];
      lines.push([cell(t.name), '', m2(q), m2(t.lastYear), m2(quantile(t.q, 0.5)), last.probs[i].toFixed(6),
        last.r.binding[i] || '', m2(last.r.unconstrained[i])].concat(t.quarters.map(function (sh) { return m2(q * sh); })).join(','));
    });
    return lines.join('\n') + '\n';
  }
  el('whatif-download').addEventListener('click', function () {
    if (!last) return;
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([csv()], { type: 'text/csv' }));
    a.download = 'quotas_whatif.csv';
    document.body.appendChild(a);
    a.click();
    a.remove();
  });
  el('whatif-reset').addEventListener('click', function () { show(scenario); update(); });
  ['plan', 'over', 'method', 'maxChange'].forEach(function (k) {
    inputs[k].addEventListener('input', update);
    inputs[k].addEventListener('change', update);
  });

  // Shareable links: ?plan=&over_assignment=&max_change=&method= (scenario keys).
  var start = { plan: scenario.plan, over: scenario.over, method: scenario.method, maxChange: scenario.maxChange };
  var params = new URLSearchParams(location.search), bad = [];
  var param = function (key, field, allowNone) {
    if (!params.has(key)) return;
    var v = params.get(key).trim();
    if (allowNone && (v === '' || v === 'none')) { start[field] = null; return; }
    var c = check(key, v);
    if (c.error) bad.push(c.error);
    else start[field] = c.value;
  };
  param('plan', 'plan');
  param('over_assignment', 'over');
  param('max_change', 'maxChange', true);
  if (params.has('method')) {
    var m = params.get('method');
    if (METHODS.indexOf(m) < 0 || (m === 'blend' && !D.blend.length)) bad.push('method=' + m + ' (expected one of ' +
      METHODS.filter(function (x) { return x !== 'blend' || D.blend.length; }).join(', ') + ')');
    else start.method = m;
  }
  show(start);
  update();
  if (bad.length) {
    var note = el('whatif-params');
    note.textContent = 'Ignored from the link: ' + bad.join('; ') + '.';
    note.hidden = false;
  }
})();
