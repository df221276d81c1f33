//! reverse — returns its input bytes reversed.
//!
//! Written in Rust without any crate, to prove that the edge ABI (edge/sdk.h)
//! is usable from any language that can export a C symbol. The C structs are
//! mirrored by hand with `#[repr(C)]`; the compile-time assertions at the
//! bottom check the layout against the C header's (on 64-bit targets).
//!
//! Panics: none of the code below can panic (no indexing, no unwrap, and
//! allocation failure is handled with `try_reserve_exact`). Should one happen
//! anyway, `panic = "abort"` (Cargo.toml) and the `extern "C"` boundary both
//! abort the process instead of unwinding into the host.
//!
//! Ownership follows sdk.h: the input is borrowed for the duration of invoke,
//! the output buffer is owned (and freed) here after the host copied it, and
//! the descriptor is a static that lives as long as the library.

use std::ffi::{c_char, c_int, c_void};

const EDGE_ABI_VERSION: u32 = 1;

/// `edge_result`. Only ever returned to the host, never read from it, so a
/// Rust enum cannot receive an out-of-range value.
#[repr(C)]
#[allow(dead_code)]
pub enum EdgeResult {
    Ok = 0,
    Error = 1,
    DeadlineExceeded = 2,
}

/// `edge_log_level`.
#[repr(C)]
#[allow(dead_code)]
pub enum EdgeLogLevel {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

/// `edge_call`: opaque, host-owned, valid only during the hook it is passed to.
#[repr(C)]
pub struct EdgeCall {
    _opaque: [u8; 0],
}

/// `edge_host_api`. OWNERSHIP: owned by the host; callbacks are nullable
/// function pointers (`Option<fn>` has the same layout as a C pointer).
#[repr(C)]
pub struct EdgeHostApi {
    pub struct_size: u32,
    pub abi_version: u32,
    pub get_env:
        Option<unsafe extern "C" fn(*const EdgeCall, *const c_char, *mut usize) -> *const c_char>,
    pub log: Option<unsafe extern "C" fn(*const EdgeCall, EdgeLogLevel, *const c_char, usize)>,
    pub remaining_ms: Option<unsafe extern "C" fn(*const EdgeCall) -> i64>,
    pub set_output: Option<unsafe extern "C" fn(*mut EdgeCall, *const c_void, usize) -> c_int>,
    pub set_error: Option<unsafe extern "C" fn(*mut EdgeCall, *const c_char, usize)>,
}

type InitHook =
    unsafe extern "C" fn(*const EdgeHostApi, *mut EdgeCall, *mut *mut c_void) -> EdgeResult;
type InvokeHook = unsafe extern "C" fn(
    *mut c_void,
    *const EdgeHostApi,
    *mut EdgeCall,
    *const u8,
    usize,
) -> EdgeResult;
type ShutdownHook = unsafe extern "C" fn(*mut c_void);

/// `edge_plugin_descriptor`. OWNERSHIP: owned by the plugin (a static).
#[repr(C)]
pub struct EdgePluginDescriptor {
    pub struct_size: u32,
    pub abi_version: u32,
    pub name: *const c_char,
    pub version: *const c_char,
    pub description: *const c_char,
    pub default_memory_mb: u32,
    pub default_timeout_ms: u32,
    pub required_capabilities: *const *const c_char,
    pub flags: u32,
    pub init: Option<InitHook>,
    pub invoke: Option<InvokeHook>,
    pub shutdown: Option<ShutdownHook>,
}

// SAFETY: the descriptor is immutable and its pointers point to 'static
// string literals, so sharing it between threads is sound.
unsafe impl Sync for EdgePluginDescriptor {}

/// The end of `set_error` in the version-1 host table: a shorter table is
/// missing callbacks we use.
const HOST_API_V1_SIZE: usize =
    std::mem::offset_of!(EdgeHostApi, set_error) + std::mem::size_of::<*const c_void>();

/// # Safety
/// Called by the host per sdk.h: `host` and `call` valid for the duration of
/// the call, `input[0..input_size)` readable (or null when `input_size` is 0).
unsafe extern "C" fn reverse_invoke(
    _instance: *mut c_void,
    host: *const EdgeHostApi,
    call: *mut EdgeCall,
    input: *const u8,
    input_size: usize,
) -> EdgeResult {
    let Some(host) = host.as_ref() else {
        return EdgeResult::Error;
    };
    if (host.struct_size as usize) < HOST_API_V1_SIZE {
        return EdgeResult::Error;
    }
    let (Some(set_output), Some(set_error)) = (host.set_output, host.set_error) else {
        return EdgeResult::Error;
    };
    let input: &[u8] = if input.is_null() || input_size == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(input, input_size)
    };

    let mut output: Vec<u8> = Vec::new();
    if output.try_reserve_exact(input.len()).is_err() {
        let message = b"reverse: out of memory for the output";
        set_error(call, message.as_ptr().cast(), message.len());
        return EdgeResult::Error;
    }
    output.extend(input.iter().rev());

    // The host copies the bytes; `output` is freed here, by our allocator.
    if set_output(call, output.as_ptr().cast(), output.len()) != 0 {
        let message = b"reverse: the host could not store the output";
        set_error(call, message.as_ptr().cast(), message.len());
        return EdgeResult::Error;
    }
    EdgeResult::Ok
}

static DESCRIPTOR: EdgePluginDescriptor = EdgePluginDescriptor {
    struct_size: std::mem::size_of::<EdgePluginDescriptor>() as u32,
    abi_version: EDGE_ABI_VERSION,
    name: c"reverse".as_ptr(),
    version: c"1.0.0".as_ptr(),
    description: c"Returns its input bytes reversed (written in Rust, no crates)".as_ptr(),
    default_memory_mb: 16,
    default_timeout_ms: 1000,
    required_capabilities: std::ptr::null(),
    flags: 0,
    init: None,
    invoke: Some(reverse_invoke),
    shutdown: None,
};

/// The plugin's one exported symbol (EDGE_PLUGIN_ENTRY_SYMBOL).
#[no_mangle]
pub extern "C" fn edge_plugin_entry() -> *const EdgePluginDescriptor {
    &DESCRIPTOR
}

// The layout of the C header on LP64 targets (x86_64, aarch64 Linux).
#[cfg(target_pointer_width = "64")]
const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(size_of::<EdgeResult>() == 4);
    assert!(size_of::<EdgeLogLevel>() == 4);
    assert!(size_of::<EdgeHostApi>() == 48);
    assert!(offset_of!(EdgeHostApi, get_env) == 8);
    assert!(offset_of!(EdgeHostApi, set_error) == 40);
    assert!(size_of::<EdgePluginDescriptor>() == 80);
    assert!(offset_of!(EdgePluginDescriptor, name) == 8);
    assert!(offset_of!(EdgePluginDescriptor, default_memory_mb) == 32);
    assert!(offset_of!(EdgePluginDescriptor, required_capabilities) == 40);
    assert!(offset_of!(EdgePluginDescriptor, flags) == 48);
    assert!(offset_of!(EdgePluginDescriptor, init) == 56);
    assert!(offset_of!(EdgePluginDescriptor, invoke) == 64);
    assert!(offset_of!(EdgePluginDescriptor, shutdown) == 72);
};
