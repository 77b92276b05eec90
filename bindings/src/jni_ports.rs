//! The shell's ports over plain JNI instead of UniFFI callbacks (issue #17).
//!
//! A UniFFI callback reaches Kotlin through JNA's proxy callbacks: on the host JVM each one costs
//! 25 to 55 µs of the calling thread, against about 1 µs for a JNI call (`scripts/bench-ffi`, the
//! README's Benchmarks section has why). A swiped sale calls the reader and the printer once each,
//! a chip sale 15 to 20 times, and an online sale asks the PED for two MACs and often a PIN block,
//! so the callbacks were most of the FFI's cost of a sale.
//!
//! The Kotlin side (`JniPorts.kt`) wraps a port in a bridge object with one method, `call(method:
//! Int, args: ByteArray): ByteArray`, registers it here with `JniPorts.register` and gets back a
//! Rust-implemented port (`jni_bridged_port`) that it hands to the terminal in place of
//! its own. `PaymentTerminal.open` does this for every port it is given.
//!
//! Arguments and answers are written with UniFFI's own serialization on both sides (the generated
//! `FfiConverter`s and the `Lift` / `Lower` impls come from the same definitions, so they agree),
//! except APDUs, which go as they are. The answer is a frame: a tag byte, then the value, the
//! port's error, or nothing. Errors follow the port rules of `ports.rs`: a `PortException` keeps
//! its meaning, anything else is the port's generic failure without its text, which may quote
//! card data.
#![allow(unsafe_code)] // the exported JNI entry point, and calls by a method id checked at registration

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use jni::JNIEnv;
use jni::JavaVM;
use jni::objects::{GlobalRef, JByteArray, JClass, JMethodID, JObject, JValue};
use jni::signature::ReturnType;
use jni::sys::{jint, jlong};
use zeroize::Zeroizing;

use crate::error::{SmartPosError, guard};
use crate::optional_ports::{
    Audience, Confirmation, GeoFixRecord, Location, NetworkLink, NetworkMonitor,
    NetworkStatusRecord, Prompt, PromptTextRecord, Scanner,
};
use crate::outcome::ReceiptRecord;
use crate::ped::{
    IccPinKeyRecord, OfflinePinOutcome, Ped, PedError, PedKey, PedMacAlgorithm, WorkingKeysRecord,
};
use crate::ports::{CardPresentationRecord, CardReader, PortError, Printer};

/// Answer tags, as `JniPorts.kt` writes them.
const OK: u8 = 0;
/// The port's own exception (`PortException`, `PedException`).
const PORT_ERROR: u8 = 1;
/// The port threw something else.
const OTHER: u8 = 2;

/// Which port a bridge stands for, as `JniPorts.kt` numbers them, and its methods' numbers.
mod kind {
    pub const READER: i32 = 1;
    pub const PRINTER: i32 = 2;
    pub const PROMPT: i32 = 3;
    pub const PED: i32 = 4;
    pub const SCANNER: i32 = 5;
    pub const NETWORK: i32 = 6;
    pub const LOCATION: i32 = 7;
}
mod reader {
    pub const DETECT: i32 = 0;
    pub const TRANSCEIVE: i32 = 1;
    pub const REMOVE_CARD: i32 = 2;
}
mod printer {
    pub const PRINT: i32 = 0;
    pub const STATUS: i32 = 1;
}
mod prompt {
    pub const SHOW: i32 = 0;
    pub const CONFIRM: i32 = 1;
}
/// The scanner's, the network monitor's and the location's one method each.
const ONLY_METHOD: i32 = 0;
mod ped {
    pub const LOAD_WORKING_KEYS: i32 = 0;
    pub const HAS_WORKING_KEYS: i32 = 1;
    pub const CLEAR_WORKING_KEYS: i32 = 2;
    pub const CALCULATE_MAC: i32 = 3;
    pub const ONLINE_PIN_BLOCK: i32 = 4;
    pub const ENCRYPT_DATA_BLOCK: i32 = 5;
    pub const KEY_CHECK_VALUE: i32 = 6;
    pub const VERIFY_PLAINTEXT_PIN: i32 = 7;
    pub const VERIFY_ENCIPHERED_PIN: i32 = 8;
}

/// How one port's failures are told: its error type, which the bridge's frames carry, and
/// that type's generic failures.
trait Faults {
    type Error: uniffi::Lift<crate::UniFfiTag>;
    /// What went wrong between here and the bridge (JNI, a malformed answer).
    fn broken(detail: String) -> Self::Error;
    /// The port threw something other than its own exception.
    fn unexpected() -> Self::Error;
}

/// A port whose error is `PortError`, and the variant that names its own failure.
macro_rules! port_faults {
    ($name:ident, $variant:ident) => {
        struct $name;
        impl Faults for $name {
            type Error = PortError;
            fn broken(detail: String) -> PortError {
                PortError::$variant { detail }
            }
            fn unexpected() -> PortError {
                PortError::Unexpected
            }
        }
    };
}

port_faults!(ReaderFaults, Reader);
port_faults!(PrinterFaults, Printer);
port_faults!(PromptFaults, Display);
port_faults!(ScannerFaults, Scanner);

/// The network monitor and the location cannot fail (they answer from the OS's last report);
/// what goes wrong on the way is logged and read as no report at all.
struct InfallibleFaults;
impl Faults for InfallibleFaults {
    type Error = String;
    fn broken(detail: String) -> String {
        detail
    }
    fn unexpected() -> String {
        "the port threw".into()
    }
}

struct PedFaults;
impl Faults for PedFaults {
    type Error = PedError;
    fn broken(detail: String) -> PedError {
        PedError::Device { detail }
    }
    fn unexpected() -> PedError {
        PedError::Unexpected
    }
}

/// Registered bridges waiting for `jni_bridged_port` to take them, by id.
static PENDING: Mutex<Pending> = Mutex::new(Pending {
    next: 1,
    bridges: None,
});

struct Pending {
    next: i64,
    bridges: Option<HashMap<i64, Bridge>>,
}

/// A Kotlin port bridge, its `call` and the VM it lives in.
struct Bridge {
    kind: i32,
    vm: JavaVM,
    object: GlobalRef,
    /// `call(I[B)[B` of the bridge's own class, looked up once: calling by name would look it
    /// up, and parse its signature, on every call.
    call: JMethodID,
}

/// `JniPorts.register(bridge, kind)`: keeps a global reference to `bridge` and returns the id
/// `jni_bridged_port` takes it by; 0 when the VM refused the reference or the object has
/// no `call(Int, ByteArray): ByteArray` (an exception is then pending in Java).
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_smartpos_JniPorts_register<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    bridge: JObject<'local>,
    kind: jint,
) -> jlong {
    // Method and class are resolved here, on the shell's thread and with its class loader: a
    // lookup by name later, from a thread the core runs on, could miss the app's classes.
    let call = env
        .get_object_class(&bridge)
        .and_then(|class| env.get_method_id(&class, "call", "(I[B)[B"));
    let (Ok(call), Ok(vm), Ok(object)) = (call, env.get_java_vm(), env.new_global_ref(bridge))
    else {
        return 0;
    };
    let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
    let id = pending.next;
    pending.next += 1;
    pending.bridges.get_or_insert_with(HashMap::new).insert(
        id,
        Bridge {
            kind,
            vm,
            object,
            call,
        },
    );
    id
}

/// A registered bridge as the port it stands for.
#[derive(uniffi::Enum)]
pub enum BridgedPort {
    Reader { port: Arc<dyn CardReader> },
    Printer { port: Arc<dyn Printer> },
    Prompt { port: Arc<dyn Prompt> },
    Ped { port: Arc<dyn Ped> },
    Scanner { port: Arc<dyn Scanner> },
    Network { port: Arc<dyn NetworkMonitor> },
    Location { port: Arc<dyn Location> },
}

/// The port whose calls go to the Kotlin bridge `bridge_id` (`JniPorts.register`), of the kind
/// it was registered as. Each registration is taken once. One export for every kind: each
/// exported function costs the shipped library its scaffolding and metadata.
#[uniffi::export]
pub fn jni_bridged_port(bridge_id: i64) -> Result<BridgedPort, SmartPosError> {
    guard("jni_bridged_port", || {
        let taken = PENDING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .bridges
            .as_mut()
            .and_then(|bridges| bridges.remove(&bridge_id));
        let bridge = taken.ok_or_else(|| SmartPosError::InvalidInput {
            what: "port bridge".into(),
            detail: format!("no registered bridge {bridge_id} (each is taken once)"),
        })?;
        Ok(match bridge.kind {
            kind::READER => BridgedPort::Reader {
                port: Arc::new(BridgedReader(bridge)),
            },
            kind::PRINTER => BridgedPort::Printer {
                port: Arc::new(BridgedPrinter(bridge)),
            },
            kind::PROMPT => BridgedPort::Prompt {
                port: Arc::new(BridgedPrompt(bridge)),
            },
            kind::PED => BridgedPort::Ped {
                port: Arc::new(BridgedPed(bridge)),
            },
            kind::SCANNER => BridgedPort::Scanner {
                port: Arc::new(BridgedScanner(bridge)),
            },
            kind::NETWORK => BridgedPort::Network {
                port: Arc::new(BridgedNetwork(bridge)),
            },
            kind::LOCATION => BridgedPort::Location {
                port: Arc::new(BridgedLocation(bridge)),
            },
            other => {
                return Err(SmartPosError::InvalidInput {
                    what: "port bridge".into(),
                    detail: format!("bridge {bridge_id} has no port kind {other}"),
                });
            }
        })
    })
}

/// Arguments in UniFFI's serialization, as the generated Kotlin `FfiConverter`s read them.
#[derive(Default)]
struct Args(Zeroizing<Vec<u8>>);

impl Args {
    fn with<T: uniffi::Lower<crate::UniFfiTag>>(mut self, value: T) -> Self {
        T::write(value, &mut self.0);
        self
    }

    /// A string or bytes in UniFFI's form (a big-endian `i32` length, then the bytes), written
    /// from a borrow: `with` would take an owned copy and drop it unzeroed.
    fn with_secret(mut self, bytes: &[u8]) -> Self {
        let len = i32::try_from(bytes.len()).unwrap_or(i32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }
}

fn args<T: uniffi::Lower<crate::UniFfiTag>>(value: T) -> Args {
    Args::default().with(value)
}

fn no_args() -> Args {
    Args::default()
}

/// Bytes as they are, for the one argument of an APDU exchange.
fn raw(bytes: Vec<u8>) -> Args {
    Args(Zeroizing::new(bytes))
}

struct BridgedReader(Bridge);

impl CardReader for BridgedReader {
    fn detect(&self, timeout_ms: u64) -> Result<CardPresentationRecord, PortError> {
        self.0
            .value::<ReaderFaults, _>(reader::DETECT, args(timeout_ms))
    }

    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, PortError> {
        self.0.bytes::<ReaderFaults>(reader::TRANSCEIVE, raw(apdu))
    }

    fn remove_card(&self) -> Result<(), PortError> {
        self.0.unit::<ReaderFaults>(reader::REMOVE_CARD, no_args())
    }
}

struct BridgedPrinter(Bridge);

impl Printer for BridgedPrinter {
    fn print(&self, receipt: ReceiptRecord) -> Result<(), PortError> {
        self.0.unit::<PrinterFaults>(printer::PRINT, args(receipt))
    }

    fn status(&self) -> Result<(), PortError> {
        self.0.unit::<PrinterFaults>(printer::STATUS, no_args())
    }
}

struct BridgedPrompt(Bridge);

impl Prompt for BridgedPrompt {
    fn show(&self, audience: Audience, text: PromptTextRecord) -> Result<(), PortError> {
        self.0
            .unit::<PromptFaults>(prompt::SHOW, args(audience).with(text))
    }

    fn confirm(
        &self,
        audience: Audience,
        question: PromptTextRecord,
        timeout_ms: u64,
    ) -> Result<Confirmation, PortError> {
        let args = args(audience).with(question).with(timeout_ms);
        self.0.value::<PromptFaults, _>(prompt::CONFIRM, args)
    }
}

struct BridgedScanner(Bridge);

impl Scanner for BridgedScanner {
    fn scan(&self, timeout_ms: u64) -> Result<Option<String>, PortError> {
        self.0
            .value::<ScannerFaults, _>(ONLY_METHOD, args(timeout_ms))
    }
}

struct BridgedNetwork(Bridge);

impl NetworkMonitor for BridgedNetwork {
    fn status(&self) -> NetworkStatusRecord {
        self.0
            .value::<InfallibleFaults, _>(ONLY_METHOD, no_args())
            .unwrap_or_else(|why| {
                // No report: the link is unknown, and the payment tries the network rather
                // than being refused for a monitor's fault.
                log::warn!("network monitor: {why}");
                NetworkStatusRecord {
                    link: NetworkLink::None,
                    signal_dbm: None,
                    connected: true,
                }
            })
    }
}

struct BridgedLocation(Bridge);

impl Location for BridgedLocation {
    fn fix(&self) -> Option<GeoFixRecord> {
        self.0
            .value::<InfallibleFaults, _>(ONLY_METHOD, no_args())
            .unwrap_or_else(|why| {
                log::warn!("location: {why}");
                None
            })
    }
}

struct BridgedPed(Bridge);

impl Ped for BridgedPed {
    fn load_working_keys(&self, keys: WorkingKeysRecord) -> Result<(), PedError> {
        self.0.unit::<PedFaults>(ped::LOAD_WORKING_KEYS, args(keys))
    }

    fn has_working_keys(&self) -> Result<bool, PedError> {
        self.0
            .value::<PedFaults, _>(ped::HAS_WORKING_KEYS, no_args())
    }

    fn clear_working_keys(&self) -> Result<(), PedError> {
        self.0.unit::<PedFaults>(ped::CLEAR_WORKING_KEYS, no_args())
    }

    fn calculate_mac(
        &self,
        algorithm: PedMacAlgorithm,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, PedError> {
        self.0
            .bytes::<PedFaults>(ped::CALCULATE_MAC, args(algorithm).with(data))
    }

    fn online_pin_block(
        &self,
        pan_digits: String,
        amount_fen: u64,
    ) -> Result<Option<Vec<u8>>, PedError> {
        let pan_digits = Zeroizing::new(pan_digits);
        let args = no_args()
            .with_secret(pan_digits.as_bytes())
            .with(amount_fen);
        self.0.value::<PedFaults, _>(ped::ONLINE_PIN_BLOCK, args)
    }

    fn encrypt_data_block(&self, block: Vec<u8>) -> Result<Vec<u8>, PedError> {
        let block = Zeroizing::new(block);
        let args = no_args().with_secret(&block);
        self.0.bytes::<PedFaults>(ped::ENCRYPT_DATA_BLOCK, args)
    }

    fn key_check_value(&self, key: PedKey) -> Result<Vec<u8>, PedError> {
        self.0.bytes::<PedFaults>(ped::KEY_CHECK_VALUE, args(key))
    }

    fn verify_plaintext_pin(
        &self,
        tries_left: Option<u8>,
        amount_fen: u64,
        timeout_ms: u64,
    ) -> Result<OfflinePinOutcome, PedError> {
        let args = args(tries_left).with(amount_fen).with(timeout_ms);
        self.0
            .value::<PedFaults, _>(ped::VERIFY_PLAINTEXT_PIN, args)
    }

    fn verify_enciphered_pin(
        &self,
        key: IccPinKeyRecord,
        tries_left: Option<u8>,
        amount_fen: u64,
        timeout_ms: u64,
    ) -> Result<OfflinePinOutcome, PedError> {
        let args = args(key).with(tries_left).with(amount_fen).with(timeout_ms);
        self.0
            .value::<PedFaults, _>(ped::VERIFY_ENCIPHERED_PIN, args)
    }
}

/// A value a bridge answered, which must fill the answer exactly.
fn lift<F: Faults, T: uniffi::Lift<crate::UniFfiTag>>(mut answer: &[u8]) -> Result<T, F::Error> {
    match T::try_read(&mut answer) {
        Ok(value) if answer.is_empty() => Ok(value),
        _ => Err(F::broken("the bridge answered an unreadable value".into())),
    }
}

impl Bridge {
    fn value<F: Faults, T: uniffi::Lift<crate::UniFfiTag>>(
        &self,
        method: i32,
        args: Args,
    ) -> Result<T, F::Error> {
        self.call::<F, T>(method, args, lift::<F, T>)
    }

    /// An answer that is bytes as they are (an APDU's, a MAC, a ciphertext).
    fn bytes<F: Faults>(&self, method: i32, args: Args) -> Result<Vec<u8>, F::Error> {
        self.call::<F, _>(method, args, |value| Ok(value.to_vec()))
    }

    fn unit<F: Faults>(&self, method: i32, args: Args) -> Result<(), F::Error> {
        self.call::<F, _>(method, args, |_| Ok(()))
    }

    /// Calls method `method` with `args` and reads the answer's value bytes with `read`, or
    /// returns the port's error. The frame is zeroed once read.
    fn call<F: Faults, T>(
        &self,
        method: i32,
        args: Args,
        read: impl FnOnce(&[u8]) -> Result<T, F::Error>,
    ) -> Result<T, F::Error> {
        match self.exchange(method, &args.0) {
            Exchange::Answered(frame) => read(answer_of::<F>(&frame)?),
            Exchange::Broken(detail) => Err(F::broken(detail)),
            Exchange::Thrown => Err(F::unexpected()),
        }
    }

    /// The JNI call itself, the same for every port (one copy in the library, not one per
    /// port's error type). Both Java arrays are zeroed once used: they may hold card data, a PAN
    /// or a PIN block, which would otherwise wait in the Java heap for the collector.
    fn exchange(&self, method: i32, args: &[u8]) -> Exchange {
        let vm_failure = |e: jni::errors::Error| Exchange::Broken(format!("JNI: {e}"));
        // On a thread the JVM already knows (the shell's caller) this only looks the env up.
        let mut env = match self.vm.attach_current_thread() {
            Ok(env) => env,
            Err(e) => return vm_failure(e),
        };
        // One local frame per call: a sale runs inside one native call, so local references
        // would otherwise pile up until it returns.
        let exchanged = env.with_local_frame(4, |env| -> jni::errors::Result<Exchange> {
            let args_array = env.byte_array_from_slice(args)?;
            // SAFETY: `call` is the `(I[B)[B` method of this very object's class (looked up at
            // registration), called with an int and a byte array and read back as an object.
            let answer = unsafe {
                env.call_method_unchecked(
                    &self.object,
                    self.call,
                    ReturnType::Object,
                    &[
                        JValue::Int(method).as_jni(),
                        JValue::Object(&args_array).as_jni(),
                    ],
                )
            };
            let answer = match answer.and_then(|v| v.l()) {
                Ok(answer) if answer.is_null() => {
                    Exchange::Broken("the bridge answered null".into())
                }
                Ok(answer) => {
                    let answer = JByteArray::from(answer);
                    let bytes = Zeroizing::new(env.convert_byte_array(&answer)?);
                    scrub(env, &answer, bytes.len())?;
                    Exchange::Answered(bytes)
                }
                Err(jni::errors::Error::JavaException) => {
                    // An `Error` the bridge does not catch (out of memory, …): handled here,
                    // since leaving it pending would poison every later JNI call.
                    let _ = env.exception_clear();
                    Exchange::Thrown
                }
                Err(e) => vm_failure(e),
            };
            scrub(env, &args_array, args.len())?;
            Ok(answer)
        });
        exchanged.unwrap_or_else(vm_failure)
    }
}

/// What a bridge call came to, before the port's error type is known.
enum Exchange {
    /// The bridge's answer frame.
    Answered(Zeroizing<Vec<u8>>),
    /// JNI failed, or the bridge answered no frame.
    Broken(String),
    /// The bridge threw (only an `Error` gets past its catch).
    Thrown,
}

fn scrub(env: &mut JNIEnv, array: &JByteArray, len: usize) -> jni::errors::Result<()> {
    if len > 0 {
        env.set_byte_array_region(array, 0, &Zeroizing::new(vec![0i8; len]))?;
    }
    Ok(())
}

/// The value bytes of an answer frame, or the error it carries.
fn answer_of<F: Faults>(frame: &[u8]) -> Result<&[u8], F::Error> {
    match frame.split_first() {
        Some((&OK, value)) => Ok(value),
        Some((&PORT_ERROR, error)) => Err(lift::<F, F::Error>(error)?),
        Some((&OTHER, _)) => Err(F::unexpected()),
        _ => Err(F::broken("the bridge answered an unknown frame".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written<T: uniffi::Lower<crate::UniFfiTag>>(value: T) -> Vec<u8> {
        args(value).0.to_vec()
    }

    #[test]
    fn an_ok_frame_is_its_value() {
        let value = answer_of::<ReaderFaults>(&[OK, 0x90, 0x00]).unwrap();
        assert_eq!(value, &[0x90, 0x00]);
        assert!(answer_of::<ReaderFaults>(&[OK]).unwrap().is_empty());
    }

    #[test]
    fn a_port_error_frame_keeps_its_meaning() {
        for error in [
            PortError::CardRemovedTooEarly,
            PortError::PrinterOutOfPaper,
            PortError::Reader {
                detail: "contact fault".into(),
            },
        ] {
            let mut bytes = vec![PORT_ERROR];
            bytes.extend(written(error.clone()));
            assert_eq!(answer_of::<PrinterFaults>(&bytes), Err(error));
        }
        let mut bytes = vec![PORT_ERROR];
        let mismatch = PedError::CheckValueMismatch { key: "MAK".into() };
        bytes.extend(written(mismatch.clone()));
        assert_eq!(answer_of::<PedFaults>(&bytes), Err(mismatch));
    }

    #[test]
    fn any_other_exception_is_the_generic_failure() {
        assert_eq!(
            answer_of::<ReaderFaults>(&[OTHER]),
            Err(PortError::Unexpected)
        );
        assert_eq!(answer_of::<PedFaults>(&[OTHER]), Err(PedError::Unexpected));
    }

    #[test]
    fn a_malformed_frame_is_the_ports_own_failure_and_never_a_panic() {
        let garbled_error = [PORT_ERROR, 0, 0, 0, 99];
        let truncated_error = [PORT_ERROR, 0, 0, 0, 4, 0, 0];
        let trailing = {
            let mut bytes = vec![PORT_ERROR];
            bytes.extend(written(PortError::PrinterJammed));
            bytes.push(0);
            bytes
        };
        for bytes in [&[][..], &[7], &garbled_error, &truncated_error, &trailing] {
            match answer_of::<PrinterFaults>(bytes) {
                Err(PortError::Printer { detail }) => {
                    assert!(detail.contains("bridge"), "{detail}")
                }
                other => panic!("{bytes:?}: {other:?}"),
            }
            match answer_of::<PedFaults>(bytes) {
                Err(PedError::Device { detail }) => assert!(detail.contains("bridge"), "{detail}"),
                other => panic!("{bytes:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_card_presentation_is_read_back_as_written_and_must_fill_the_answer() {
        let swiped = CardPresentationRecord::Magstripe {
            track2: "6222020000000015=30121010000000000".into(),
        };
        let bytes = written(swiped.clone());
        assert_eq!(
            lift::<ReaderFaults, CardPresentationRecord>(&bytes),
            Ok(swiped)
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(lift::<ReaderFaults, CardPresentationRecord>(&longer).is_err());
        assert!(lift::<ReaderFaults, CardPresentationRecord>(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn secrets_are_written_in_uniffis_own_form() {
        let pan = "6222020000000015";
        assert_eq!(
            no_args().with_secret(pan.as_bytes()).0.to_vec(),
            written(pan.to_string())
        );
        let block = vec![0x12u8, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0];
        assert_eq!(
            no_args().with_secret(&block).0.to_vec(),
            written(block.clone())
        );
    }

    #[test]
    fn taking_an_unregistered_bridge_is_a_typed_error() {
        // Registering needs a JVM: the Kotlin tests take a bridge twice.
        assert!(matches!(
            jni_bridged_port(-1),
            Err(SmartPosError::InvalidInput { .. })
        ));
    }
}
