//! The sales rows grouped by text columns (account, key and date; key and
//! deal; rep and date), each group's amount summed exactly in integer
//! units, the groups in the byte order of their texts.
//!
//! Why here and not in polars: a polars group-by on several string columns
//! followed by a sort on them (the groups come out in no particular order,
//! and the roll-ups must not depend on threads) took about 21 of the 27
//! seconds that `validate` took on a 10-million-row file with accounts and
//! deals (README, Speed). Here each column's texts are numbered once (a
//! hash map of its distinct values: a hundred thousand accounts, a
//! thousand keys, a thousand days), the numbers are replaced by the texts'
//! ranks, the rows are sorted by their packed ranks (in parallel), and
//! each run of equal ranks is one group. The sums are exact integers and
//! a group's first date is a minimum, so the groups are those polars gave,
//! to the bit, in the same order.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rayon::slice::ParallelSliceMut;

type Ids<'a> = HashMap<&'a str, u32, BuildHasherDefault<Fnv>>;

/// The distinct texts of one column, numbered as first met.
struct Column<'a> {
    ids: Ids<'a>,
    texts: Vec<&'a str>,
}

impl<'a> Column<'a> {
    fn new() -> Self {
        Self {
            ids: Ids::default(),
            texts: Vec::new(),
        }
    }

    fn id(&mut self, text: &'a str) -> u32 {
        let next = self.texts.len() as u32;
        let id = *self.ids.entry(text).or_insert(next);
        if id == next {
            self.texts.push(text);
        }
        id
    }

    /// Each id's rank among the texts in byte order.
    fn ranks(&self) -> Vec<u32> {
        let mut by_text: Vec<u32> = (0..self.texts.len() as u32).collect();
        by_text.sort_unstable_by_key(|&id| self.texts[id as usize]);
        let mut rank = vec![0; by_text.len()];
        for (r, &id) in by_text.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        rank
    }

    /// The texts in rank order, given each id's `rank` ([`Column::ranks`]).
    fn by_rank(&self, rank: &[u32]) -> Vec<&'a str> {
        let mut texts = vec![""; rank.len()];
        for (&text, &r) in self.texts.iter().zip(rank) {
            texts[r as usize] = text;
        }
        texts
    }
}

/// One group: its texts (one per grouping column, then empty), the
/// smallest date text of its rows, and its exact sum in units.
pub struct Group<'a> {
    pub texts: [&'a str; 4],
    pub first_date: &'a str,
    pub units: i128,
}

/// The rows grouped by the texts of `columns` (each an iterator over the
/// rows' texts, `None` where missing; a row missing any is left out), with
/// the rows' date texts `dates` and integer amounts `units` (`None` counts
/// as 0), in the order of their texts (the first column first, bytes
/// compared).
pub fn group<'a>(
    columns: Vec<Box<dyn Iterator<Item = Option<&'a str>> + 'a>>,
    dates: impl Iterator<Item = Option<&'a str>>,
    units: impl Iterator<Item = Option<i64>>,
) -> Vec<Group<'a>> {
    let width = columns.len();
    assert!(width <= 3, "at most three grouping columns");
    // Each row's column ids, packed first column first, its date's id and
    // its units.
    let mut numbered: Vec<Column> = (0..width).map(|_| Column::new()).collect();
    let mut date_ids = Column::new();
    let mut rows: Vec<(u128, u32, i64)> = Vec::with_capacity(units.size_hint().0);
    let mut columns = columns;
    let mut dates = dates;
    for amount in units {
        let mut packed = 0u128;
        let mut complete = true;
        for (column, ids) in columns.iter_mut().zip(numbered.iter_mut()) {
            match column.next().flatten() {
                Some(text) => packed = (packed << 32) | u128::from(ids.id(text)),
                None => complete = false,
            }
        }
        match (dates.next().flatten(), complete) {
            (Some(date), true) => rows.push((packed, date_ids.id(date), amount.unwrap_or(0))),
            _ => continue,
        }
    }
    // The ids replaced by the texts' ranks, so that sorting the packed
    // numbers sorts the rows by their texts; a group's rows are then
    // neighbours.
    let ranks: Vec<Vec<u32>> = numbered.iter().map(Column::ranks).collect();
    let date_ranks = date_ids.ranks();
    let by_rank = |packed: u128| {
        (0..width).fold(0u128, |acc, j| {
            let id = (packed >> (32 * (width - 1 - j))) as u32;
            (acc << 32) | u128::from(ranks[j][id as usize])
        })
    };
    for row in &mut rows {
        row.0 = by_rank(row.0);
        row.1 = date_ranks[row.1 as usize];
    }
    rows.par_sort_unstable_by_key(|row| row.0);
    // Rank back to text, per column.
    let column_texts: Vec<Vec<&str>> = numbered
        .iter()
        .zip(&ranks)
        .map(|(c, r)| c.by_rank(r))
        .collect();
    let date_texts = date_ids.by_rank(&date_ranks);
    rows.chunk_by(|x, y| x.0 == y.0)
        .map(|run| {
            let packed = run[0].0;
            let mut texts = [""; 4];
            for (j, text) in texts.iter_mut().take(width).enumerate() {
                let rank = (packed >> (32 * (width - 1 - j))) as u32;
                *text = column_texts[j][rank as usize];
            }
            let first = run.iter().map(|row| row.1).min().unwrap_or(0);
            Group {
                texts,
                first_date: date_texts[first as usize],
                units: run.iter().map(|row| i128::from(row.2)).sum(),
            }
        })
        .collect()
}

/// FNV-1a, for maps keyed by short strings (territory names, date
/// strings) looked up once per aggregated row: several times faster than
/// the default SipHash there, and no input is adversarial.
#[derive(Default)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01B3);
        }
        self.0 = h;
    }
}

pub type RankMap<'a> = Ids<'a>;

/// The distinct strings of `values` in byte order, and the rank of each.
pub fn ranks<'a>(values: impl Iterator<Item = &'a str>) -> (Vec<&'a str>, RankMap<'a>) {
    let mut column = Column::new();
    for v in values {
        column.id(v);
    }
    let rank = column.ranks();
    let distinct = column.by_rank(&rank);
    let mut map = column.ids;
    for r in map.values_mut() {
        *r = rank[*r as usize];
    }
    (distinct, map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_sum_exactly_and_come_in_text_order() {
        let accounts = [Some("b"), Some("a"), None, Some("b"), Some("a"), Some("ab")];
        let keys = [
            Some("T2"),
            Some("T1"),
            Some("T1"),
            Some("T2"),
            Some("T1"),
            Some("T1"),
        ];
        let dates = [
            Some("2024-02-01"),
            Some("2024-01-05"),
            Some("2024-01-01"),
            Some("2024-01-03"),
            Some("2024-01-02"),
            None,
        ];
        let units = [Some(5), Some(1), Some(100), Some(7), None, Some(3)];
        let g = group(
            vec![Box::new(accounts.into_iter()), Box::new(keys.into_iter())],
            dates.into_iter(),
            units.into_iter(),
        );
        // The row without an account and the row without a date are left
        // out; ("a", "T1") sums 1 and a missing amount; ("b", "T2") 5 + 7
        // from its first date.
        let got: Vec<(&str, &str, &str, i128)> = g
            .iter()
            .map(|g| (g.texts[0], g.texts[1], g.first_date, g.units))
            .collect();
        assert_eq!(
            got,
            vec![("a", "T1", "2024-01-02", 1), ("b", "T2", "2024-01-03", 12),]
        );
    }
}
