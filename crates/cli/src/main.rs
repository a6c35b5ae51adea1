//! The `interloper` binary: parses arguments, dispatches, sets the exit code.
fn main() {
    println!("interloper");
}
