//! The card reader's APDU exchange over plain JNI instead of a UniFFI callback (issue #17).
//!
//! A chip sale exchanges 15 to 20 APDUs, and a UniFFI callback through JNA costs far more than
//! the exchange it carries on the host JVM: every crossing builds JNA `Structure`s whose native
//! memory is tracked by JNA's `Memory` registry and freed by its cleaner thread, which loads the
//! garbage collector (measured in `scripts/bench-ffi`). The shell's reader SDK is Java anyway
//! (`IsoDep.transceive`, a vendor's contact reader), so the hot call goes straight to it: the
//! shell registers an `com.smartpos.ApduChannel` (Kotlin `fun interface`, `transceive(ByteArray):
//! ByteArray`) with `ApduChannels.register`, a JNI native method here, and wraps its UniFFI
//! `CardReader` with `jni_card_reader`. Detecting and removing the card, once per sale each,
//! stay on the UniFFI reader.
//!
//! Errors follow the port rules of `ports.rs`: a `PortException.CardRemovedTooEarly`,
//! `NoCardPresented` or `Reader` thrown by the channel keeps its meaning; anything else is the
//! reader's generic failure with a fixed message, since a shell's exception text may quote card
//! data.
#![allow(unsafe_code)] // the exported JNI entry point, and calls by a method id checked at registration

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use jni::JNIEnv;
use jni::JavaVM;
use jni::objects::{GlobalRef, JByteArray, JClass, JMethodID, JObject, JString, JValue};
use jni::signature::ReturnType;
use jni::sys::jlong;

use crate::error::{SmartPosError, guard};
use crate::ports::{CardPresentationRecord, CardReader, PortError};

/// Registered channels waiting for `jni_card_reader` to take them, by id.
static PENDING: Mutex<Pending> = Mutex::new(Pending {
    next: 1,
    channels: None,
});

struct Pending {
    next: i64,
    channels: Option<HashMap<i64, JniChannel>>,
}

/// A Java `ApduChannel`, its `transceive` and the VM it lives in.
struct JniChannel {
    vm: JavaVM,
    channel: GlobalRef,
    /// `transceive([B)[B` of the channel's own class, looked up once: calling by name would look
    /// it up, and parse its signature, on every APDU.
    transceive: JMethodID,
}

/// `ApduChannels.register(channel)`: keeps a global reference to `channel` and returns the id
/// `jni_card_reader` takes it by; 0 when the VM refused the reference or the object has no
/// `transceive(ByteArray): ByteArray` (an exception is then pending in Java).
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_smartpos_ApduChannels_register<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    channel: JObject<'local>,
) -> jlong {
    let transceive = env
        .get_object_class(&channel)
        .and_then(|class| env.get_method_id(&class, "transceive", "([B)[B"));
    let (Ok(transceive), Ok(vm), Ok(channel)) =
        (transceive, env.get_java_vm(), env.new_global_ref(channel))
    else {
        return 0;
    };
    let mut pending = PENDING.lock().unwrap_or_else(PoisonError::into_inner);
    let id = pending.next;
    pending.next += 1;
    pending.channels.get_or_insert_with(HashMap::new).insert(
        id,
        JniChannel {
            vm,
            channel,
            transceive,
        },
    );
    id
}

/// A card reader whose APDUs go to the registered JNI channel `channel_id` and whose detect and
/// remove go to `reader`. Each registration is taken once.
#[uniffi::export]
pub fn jni_card_reader(
    channel_id: i64,
    reader: Arc<dyn CardReader>,
) -> Result<Arc<dyn CardReader>, SmartPosError> {
    guard("jni_card_reader", || {
        let channel = PENDING
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .channels
            .as_mut()
            .and_then(|c| c.remove(&channel_id))
            .ok_or_else(|| SmartPosError::InvalidInput {
                what: "APDU channel".into(),
                detail: format!("no registered channel {channel_id} (each is taken once)"),
            })?;
        Ok(Arc::new(JniCardReader { channel, reader }) as Arc<dyn CardReader>)
    })
}

struct JniCardReader {
    channel: JniChannel,
    reader: Arc<dyn CardReader>,
}

impl CardReader for JniCardReader {
    fn detect(&self, timeout_ms: u64) -> Result<CardPresentationRecord, PortError> {
        self.reader.detect(timeout_ms)
    }

    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, PortError> {
        self.channel.transceive(&apdu)
    }

    fn remove_card(&self) -> Result<(), PortError> {
        self.reader.remove_card()
    }
}

/// The generated exception classes a channel may throw, and what each means here.
const CARD_REMOVED: &str = "com/smartpos/core/PortException$CardRemovedTooEarly";
const NO_CARD: &str = "com/smartpos/core/PortException$NoCardPresented";
const READER: &str = "com/smartpos/core/PortException$Reader";

impl JniChannel {
    fn transceive(&self, apdu: &[u8]) -> Result<Vec<u8>, PortError> {
        // On a thread the JVM already knows (the shell's caller) this only looks the env up.
        let mut env = self.vm.attach_current_thread().map_err(vm_failure)?;
        // One local frame per exchange: the sale runs inside one native call, so local
        // references would otherwise pile up until it returns.
        env.with_local_frame(
            8,
            |env| -> jni::errors::Result<Result<Vec<u8>, PortError>> {
                let command = env.byte_array_from_slice(apdu)?;
                // SAFETY: `transceive` is the `([B)[B` method of this very object's class (looked
                // up at registration), called with one byte array and read back as an object.
                let answer = unsafe {
                    env.call_method_unchecked(
                        &self.channel,
                        self.transceive,
                        ReturnType::Object,
                        &[JValue::Object(&command).as_jni()],
                    )
                };
                Ok(match answer.and_then(|v| v.l()) {
                    Ok(answer) if answer.is_null() => Err(PortError::Reader {
                        detail: "the APDU channel answered null".into(),
                    }),
                    Ok(answer) => env
                        .convert_byte_array(JByteArray::from(answer))
                        .map_err(vm_failure),
                    Err(jni::errors::Error::JavaException) => Err(thrown(env)),
                    Err(e) => Err(vm_failure(e)),
                })
            },
        )
        .map_err(vm_failure)?
    }
}

/// The pending Java exception, cleared, as the port error it stands for.
fn thrown(env: &mut JNIEnv) -> PortError {
    let Ok(exception) = env.exception_occurred() else {
        return PortError::Unexpected;
    };
    // The exception is handled here; leaving it pending would poison every later JNI call.
    let _ = env.exception_clear();
    // A class the VM cannot find (another class loader) leaves its own exception pending.
    let is = |env: &mut JNIEnv, class: &str| {
        env.is_instance_of(&exception, class).unwrap_or_else(|_| {
            let _ = env.exception_clear();
            false
        })
    };
    if is(env, CARD_REMOVED) {
        PortError::CardRemovedTooEarly
    } else if is(env, NO_CARD) {
        PortError::NoCardPresented
    } else if is(env, READER) {
        let detail = env
            .get_object_class(&exception)
            .and_then(|class| env.get_method_id(&class, "getDetail", "()Ljava/lang/String;"))
            .and_then(|get_detail| {
                // SAFETY: `getDetail()Ljava/lang/String;` of the exception's own class, no
                // arguments, read back as an object.
                unsafe {
                    env.call_method_unchecked(&exception, get_detail, ReturnType::Object, &[])
                }
            })
            .and_then(|v| v.l())
            .ok()
            .and_then(|s| env.get_string(&JString::from(s)).ok().map(String::from))
            .unwrap_or_default();
        let _ = env.exception_clear();
        PortError::Reader { detail }
    } else {
        PortError::Unexpected
    }
}

fn vm_failure(e: jni::errors::Error) -> PortError {
    PortError::Reader {
        detail: format!("JNI: {e}"),
    }
}
