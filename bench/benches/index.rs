fn main() { println!("{}", usearch::version()); }
