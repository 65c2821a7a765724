use salesplan::*;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let s = scenario::Scenario::load(std::path::Path::new(&args[1])).unwrap();
    let h = load::load(&s).unwrap();
    let m = fit::fit(&h, h.n_periods(), &s.fit);
    for t in &m.territories {
        if t.name == args[2] {
            println!(
                "{:?}\n{:?}\nseason {:?}\nmean {}",
                t.level,
                t.diagnostics,
                t.season,
                t.residual.mean()
            );
            for x in [-3.0, -1.0, 0.0, 1.0, 3.0, 5.0] {
                println!("T({x}) = {}", t.residual.transform(x));
            }
        }
    }
    println!("{:?}", m.shocks);
}
