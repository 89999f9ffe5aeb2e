//! Sets the linker flags a Node addon needs (undefined `napi_*` symbols resolved by Node).
fn main() {
    napi_build::setup();
}
