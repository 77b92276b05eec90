//! The shell's ports over plain JNI instead of UniFFI callbacks (issue #17).
//!
//! A UniFFI callback reaches Kotlin through JNA's proxy callbacks: on the host JVM each one costs
//! 25 to 55 µs of the calling thread, against about 1 µs for a JNI call (`scripts/bench-ffi`, the
//! README's Benchmarks section has why). A swiped sale calls the reader and the printer once each,
//! a chip sale 15 to 20 times, so the callbacks were most of the FFI's cost of a sale.
//!
//! The Kotlin side (`JniPorts.kt`) wraps a port in a bridge object with one method, `call(method:
//! Int, args: ByteArray): ByteArray`, registers it here with `JniPorts.register` and gets back a
//! Rust-implemented port (`jni_bridged_card_reader`, …) that it hands to the terminal in place of
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
use crate::optional_ports::{Audience, Confirmation, Prompt, PromptTextRecord};
use crate::outcome::ReceiptRecord;
use crate::ports::{CardPresentationRecord, CardReader, Port, PortError, Printer};

/// Answer tags, as `JniPorts.kt` writes them.
const OK: u8 = 0;
const PORT_ERROR: u8 = 1;
/// The port threw something other than a `PortException`.
const OTHER: u8 = 2;

/// Which port a bridge stands for, as `JniPorts.kt` numbers them, and its methods' numbers.
mod kind {
    pub const READER: i32 = 1;
    pub const PRINTER: i32 = 2;
    pub const PROMPT: i32 = 3;
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

/// Registered bridges waiting for `jni_bridged_*` to take them, by id.
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

/// `JniPorts.register(bridge, kind)`: keeps a global reference to `bridge` and returns the id a
/// `jni_bridged_*` function takes it by; 0 when the VM refused the reference or the object has
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

/// Takes the registered bridge `id`, which must be of `kind`.
fn take(id: i64, kind: i32, what: &str) -> Result<Bridge, SmartPosError> {
    let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
    let bridges = pending.bridges.get_or_insert_with(HashMap::new);
    match bridges.remove(&id) {
        Some(bridge) if bridge.kind == kind => Ok(bridge),
        Some(bridge) => {
            // Left for the port it was registered for.
            bridges.insert(id, bridge);
            Err(SmartPosError::InvalidInput {
                what: what.into(),
                detail: format!("bridge {id} was registered for another port"),
            })
        }
        None => Err(SmartPosError::InvalidInput {
            what: what.into(),
            detail: format!("no registered bridge {id} (each is taken once)"),
        }),
    }
}

/// The card reader whose calls go to the Kotlin bridge `bridge_id` (`JniPorts.register`). Each
/// registration is taken once.
#[uniffi::export]
pub fn jni_bridged_card_reader(bridge_id: i64) -> Result<Arc<dyn CardReader>, SmartPosError> {
    guard("jni_bridged_card_reader", || {
        let bridge = take(bridge_id, kind::READER, "card reader bridge")?;
        Ok(Arc::new(BridgedReader(bridge)) as Arc<dyn CardReader>)
    })
}

/// The printer whose calls go to the Kotlin bridge `bridge_id`.
#[uniffi::export]
pub fn jni_bridged_printer(bridge_id: i64) -> Result<Arc<dyn Printer>, SmartPosError> {
    guard("jni_bridged_printer", || {
        let bridge = take(bridge_id, kind::PRINTER, "printer bridge")?;
        Ok(Arc::new(BridgedPrinter(bridge)) as Arc<dyn Printer>)
    })
}

/// The prompt whose calls go to the Kotlin bridge `bridge_id`.
#[uniffi::export]
pub fn jni_bridged_prompt(bridge_id: i64) -> Result<Arc<dyn Prompt>, SmartPosError> {
    guard("jni_bridged_prompt", || {
        let bridge = take(bridge_id, kind::PROMPT, "prompt bridge")?;
        Ok(Arc::new(BridgedPrompt(bridge)) as Arc<dyn Prompt>)
    })
}

struct BridgedReader(Bridge);

impl CardReader for BridgedReader {
    fn detect(&self, timeout_ms: u64) -> Result<CardPresentationRecord, PortError> {
        let answer = self
            .0
            .call(Port::Reader, reader::DETECT, &written(timeout_ms), true)?;
        lift(Port::Reader, &answer)
    }

    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, PortError> {
        let answer = self.0.call(Port::Reader, reader::TRANSCEIVE, &apdu, true)?;
        Ok(answer.to_vec())
    }

    fn remove_card(&self) -> Result<(), PortError> {
        self.0.call(Port::Reader, reader::REMOVE_CARD, &[], true)?;
        Ok(())
    }
}

struct BridgedPrinter(Bridge);

impl Printer for BridgedPrinter {
    fn print(&self, receipt: ReceiptRecord) -> Result<(), PortError> {
        self.0
            .call(Port::Printer, printer::PRINT, &written(receipt), false)?;
        Ok(())
    }

    fn status(&self) -> Result<(), PortError> {
        self.0.call(Port::Printer, printer::STATUS, &[], false)?;
        Ok(())
    }
}

struct BridgedPrompt(Bridge);

impl Prompt for BridgedPrompt {
    fn show(&self, audience: Audience, text: PromptTextRecord) -> Result<(), PortError> {
        let mut args = written(audience);
        uniffi::Lower::<crate::UniFfiTag>::write(text, &mut args);
        self.0.call(Port::Prompt, prompt::SHOW, &args, false)?;
        Ok(())
    }

    fn confirm(
        &self,
        audience: Audience,
        question: PromptTextRecord,
        timeout_ms: u64,
    ) -> Result<Confirmation, PortError> {
        let mut args = written(audience);
        uniffi::Lower::<crate::UniFfiTag>::write(question, &mut args);
        uniffi::Lower::<crate::UniFfiTag>::write(timeout_ms, &mut args);
        let answer = self.0.call(Port::Prompt, prompt::CONFIRM, &args, false)?;
        lift(Port::Prompt, &answer)
    }
}

/// `value` in UniFFI's serialization, as the generated Kotlin `FfiConverter` reads it.
fn written<T: uniffi::Lower<crate::UniFfiTag>>(value: T) -> Vec<u8> {
    let mut buf = Vec::new();
    T::write(value, &mut buf);
    buf
}

/// A value a bridge answered, which must fill the answer exactly.
fn lift<T: uniffi::Lift<crate::UniFfiTag>>(port: Port, mut answer: &[u8]) -> Result<T, PortError> {
    match T::try_read(&mut answer) {
        Ok(value) if answer.is_empty() => Ok(value),
        _ => Err(generic(
            port,
            "the bridge answered an unreadable value".into(),
        )),
    }
}

impl Bridge {
    /// Calls method `method` with `args` and returns the answer's value bytes, or the port's
    /// error. `scrub` zeroes the Java copy of the answer once read (card data).
    fn call(
        &self,
        port: Port,
        method: i32,
        args: &[u8],
        scrub: bool,
    ) -> Result<Zeroizing<Vec<u8>>, PortError> {
        let vm_failure = |e: jni::errors::Error| generic(port, format!("JNI: {e}"));
        // On a thread the JVM already knows (the shell's caller) this only looks the env up.
        let mut env = self.vm.attach_current_thread().map_err(vm_failure)?;
        // One local frame per call: a sale runs inside one native call, so local references
        // would otherwise pile up until it returns.
        let frame = env
            .with_local_frame(
                4,
                |env| -> jni::errors::Result<Result<Zeroizing<Vec<u8>>, PortError>> {
                    let args = env.byte_array_from_slice(args)?;
                    // SAFETY: `call` is the `(I[B)[B` method of this very object's class (looked
                    // up at registration), called with an int and a byte array and read back as
                    // an object.
                    let answer = unsafe {
                        env.call_method_unchecked(
                            &self.object,
                            self.call,
                            ReturnType::Object,
                            &[JValue::Int(method).as_jni(), JValue::Object(&args).as_jni()],
                        )
                    };
                    Ok(match answer.and_then(|v| v.l()) {
                        Ok(answer) if answer.is_null() => {
                            Err(generic(port, "the bridge answered null".into()))
                        }
                        Ok(answer) => {
                            let answer = JByteArray::from(answer);
                            let bytes = Zeroizing::new(env.convert_byte_array(&answer)?);
                            if scrub {
                                let zeros = Zeroizing::new(vec![0i8; bytes.len()]);
                                env.set_byte_array_region(&answer, 0, &zeros)?;
                            }
                            Ok(bytes)
                        }
                        Err(jni::errors::Error::JavaException) => {
                            // An `Error` the bridge does not catch (out of memory, …): handled
                            // here, since leaving it pending would poison every later JNI call.
                            let _ = env.exception_clear();
                            Err(PortError::Unexpected)
                        }
                        Err(e) => Err(vm_failure(e)),
                    })
                },
            )
            .map_err(vm_failure)??;
        answer_of(port, frame)
    }
}

/// The value bytes of an answer frame, or the error it carries.
fn answer_of(port: Port, mut frame: Zeroizing<Vec<u8>>) -> Result<Zeroizing<Vec<u8>>, PortError> {
    match frame.first().copied() {
        Some(OK) => {
            frame.remove(0);
            Ok(frame)
        }
        Some(PORT_ERROR) => Err(lift::<PortError>(port, &frame[1..])?),
        Some(OTHER) => Err(PortError::Unexpected),
        _ => Err(generic(port, "the bridge answered an unknown frame".into())),
    }
}

/// The port's own failure, for what went wrong between here and the bridge.
fn generic(port: Port, detail: String) -> PortError {
    match port {
        Port::Reader => PortError::Reader { detail },
        Port::Printer => PortError::Printer { detail },
        Port::Scanner => PortError::Scanner { detail },
        Port::Prompt => PortError::Display { detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(bytes.to_vec())
    }

    #[test]
    fn an_ok_frame_is_its_value() {
        let value = answer_of(Port::Reader, frame(&[OK, 0x90, 0x00])).unwrap();
        assert_eq!(&value[..], &[0x90, 0x00]);
        assert!(answer_of(Port::Reader, frame(&[OK])).unwrap().is_empty());
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
            assert_eq!(answer_of(Port::Printer, frame(&bytes)), Err(error));
        }
    }

    #[test]
    fn any_other_exception_is_the_generic_failure() {
        assert_eq!(
            answer_of(Port::Reader, frame(&[OTHER])),
            Err(PortError::Unexpected)
        );
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
            match answer_of(Port::Printer, frame(bytes)) {
                Err(PortError::Printer { detail }) => {
                    assert!(detail.contains("bridge"), "{detail}")
                }
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
            lift::<CardPresentationRecord>(Port::Reader, &bytes),
            Ok(swiped)
        );
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(lift::<CardPresentationRecord>(Port::Reader, &longer).is_err());
        assert!(lift::<CardPresentationRecord>(Port::Reader, &bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn taking_an_unregistered_bridge_is_a_typed_error() {
        // Registering needs a JVM: the Kotlin tests take a bridge twice, and for the wrong port.
        assert!(matches!(
            take(-1, kind::READER, "card reader bridge"),
            Err(SmartPosError::InvalidInput { .. })
        ));
    }
}
