/**
 * Keys in a hardware security module, over PKCS#11 (OASIS PKCS #11 v2.40): the binding is
 * `pkcs11js`, a thin native wrapper of the C API that calls `C_Sign` on libuv's thread pool
 * (`C_SignAsync`), so the event loop never waits for the token.
 *
 * - `Pkcs11Signer`: a `Signer` whose private key never leaves the token. The SHA-256 hash is
 *   computed here and the token signs the hash only (`CKM_ECDSA`; `CKM_RSA_PKCS` over the
 *   DER DigestInfo): the two mechanisms every PKCS#11 token offers, and 32 or 51 octets sent
 *   per signature rather than the signed attributes.
 * - A pool of sessions per signer: one signature at a time per session (PKCS#11 §5.2), as many
 *   at once as the pool has sessions. A session the token no longer knows, or a token that is
 *   gone, makes `sign` throw `Pkcs11UnavailableError`; the next `sign` (or `check`) opens new
 *   sessions, logs in and finds the key again, so nothing is lost but time.
 * - A module is loaded and `C_Initialize`d once per process (PKCS#11 state is per process,
 *   not per thread), shared by every signer that names it, and finalized with the last one.
 * - Provisioning for development and tests: `generateTokenKeyPair` (sensitive,
 *   non-extractable, on the token) and `storeTokenCertificate`.
 *
 * Set-up errors (`Pkcs11SetupError`) name the setting at fault: the module, the token, the
 * PIN file, the key, the certificate. The PIN is read from a file that group and others
 * cannot read, like a key file (KeyFiles.ts), and appears in no message.
 */
import { createHash, createPublicKey, randomBytes, verify as nativeVerify } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { algorithmSpec, type KeyAlgorithm } from './AlgorithmIdentifier.js';
import { parseCertificate } from './Certificate.js';
import { Tag, equalBytes, oid, readDer, readOid } from './der.js';
import { KeyFileError, readCertificateFile, readPrivateFile } from './KeyFiles.js';
import { OID } from './oids.js';
import { ecdsaSigValueFromP1363 } from './Signature.js';
import type { Signer } from './Signer.js';
import { orderChain } from './SigningIdentity.js';

type Handle = Buffer;
type PKCS11 = InstanceType<typeof pkcs11js.PKCS11>;

/** Where the key is and how to reach it. */
export interface Pkcs11KeyConfig {
  /** Path of the PKCS#11 module (shared library), e.g. /usr/lib/softhsm/libsofthsm2.so. */
  module: string;
  /** The token, by label (as `softhsm2-util --show-slots` prints it) or by slot ID. */
  tokenLabel?: string;
  slot?: number;
  /** The private key, by CKA_LABEL and/or CKA_ID. */
  keyLabel?: string;
  keyId?: Uint8Array;
  /** File holding the user PIN (mode 0600 or stricter; one trailing newline is ignored). */
  pinFile: string;
  /** The certificate (leaf first, then its chain); absent: read from the token (same CKA_ID, else same label). */
  certFile?: string;
  /** Further chain certificates. */
  chainFile?: string;
  /** Sessions in the pool: signatures under way at once. Default 4 (libuv's thread pool). */
  sessions?: number;
}

/** Which setting a start-up error is about; the configuration maps it to its variable. */
export type Pkcs11Setting = 'module' | 'token' | 'pinFile' | 'key' | 'certFile' | 'chainFile';

/** The key cannot be used as configured: a start-up error naming the setting at fault. */
export class Pkcs11SetupError extends Error {
  override readonly name = 'Pkcs11SetupError';
  constructor(
    readonly setting: Pkcs11Setting,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The token or the session is gone for now (removed, reset, logged out): try again later. */
export class Pkcs11UnavailableError extends Error {
  override readonly name = 'Pkcs11UnavailableError';
}

/** Return values after which the sessions (or the token) must be opened anew. */
const LOST = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_DEVICE_REMOVED',
  'CKR_DEVICE_ERROR',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_SLOT_ID_INVALID',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
]);

function ckr(err: unknown): string | undefined {
  return err instanceof Error && /^CKR_[A-Z_]+$/.test(err.message) ? err.message : undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------
// Modules: loaded and initialised once per process.

interface LoadedModule {
  lib: PKCS11;
  users: number;
}

const modules = new Map<string, LoadedModule>();

function acquireModule(path: string): PKCS11 {
  let loaded = modules.get(path);
  if (!loaded) {
    const lib = new pkcs11js.PKCS11();
    try {
      lib.load(path);
    } catch (err) {
      throw new Pkcs11SetupError('module', `cannot load the PKCS#11 module ${path}: ${describe(err)}`, { cause: err });
    }
    try {
      lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (err) {
      if (ckr(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        lib.close();
        throw new Pkcs11SetupError('module', `the PKCS#11 module ${path} does not initialise: ${describe(err)}`, { cause: err });
      }
    }
    loaded = { lib, users: 0 };
    modules.set(path, loaded);
  }
  loaded.users++;
  return loaded.lib;
}

function releaseModule(path: string): void {
  const loaded = modules.get(path);
  if (!loaded || --loaded.users > 0) return;
  modules.delete(path);
  try {
    loaded.lib.C_Finalize();
  } catch {
    // already finalized or the device is gone: nothing left to release
  }
  loaded.lib.close();
}

// ---------------------------------------------------------------------------------------------
// Tokens, sessions, objects.

function padded(s: string): string {
  return s.replace(/[\s\0]+$/, '');
}

function slotNumber(slot: Handle): number {
  return slot.length >= 8 ? Number(slot.readBigUInt64LE(0)) : slot.readUInt32LE(0);
}

/** The slot holding the configured token; a `Pkcs11SetupError('token')` if there is none. */
function findSlot(lib: PKCS11, where: Pick<Pkcs11KeyConfig, 'tokenLabel' | 'slot'>): Handle {
  const slots = lib.C_GetSlotList(true);
  const seen: string[] = [];
  for (const slot of slots) {
    let label: string;
    try {
      label = padded(lib.C_GetTokenInfo(slot).label);
    } catch {
      continue; // a token going away while listed
    }
    seen.push(`"${label}" (slot ${slotNumber(slot)})`);
    if (where.tokenLabel !== undefined && label !== where.tokenLabel) continue;
    if (where.slot !== undefined && slotNumber(slot) !== where.slot) continue;
    return slot;
  }
  const wanted = where.tokenLabel !== undefined ? `labelled "${where.tokenLabel}"` : `in slot ${where.slot}`;
  throw new Pkcs11SetupError('token', `no token ${wanted}; tokens present: ${seen.length ? seen.join(', ') : 'none'}`);
}

async function readPin(file: string): Promise<string> {
  try {
    return (await readPrivateFile(file)).toString('utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new Pkcs11SetupError('pinFile', err instanceof KeyFileError ? err.message.replace(/key file/g, 'PIN file') : `cannot read the PIN file ${file}`, { cause: err });
  }
}

function login(lib: PKCS11, session: Handle, pin: string): void {
  try {
    lib.C_Login(session, pkcs11js.CKU_USER, pin);
  } catch (err) {
    const code = ckr(err);
    if (code === 'CKR_USER_ALREADY_LOGGED_IN') return;
    if (code === 'CKR_PIN_INCORRECT' || code === 'CKR_PIN_LEN_RANGE') throw new Pkcs11SetupError('pinFile', 'the token refuses the PIN (wrong PIN)', { cause: err });
    if (code === 'CKR_PIN_LOCKED') throw new Pkcs11SetupError('pinFile', 'the token has locked the user PIN (too many wrong PINs)', { cause: err });
    throw err;
  }
}

function findObjects(lib: PKCS11, session: Handle, template: pkcs11js.Template): Handle[] {
  lib.C_FindObjectsInit(session, template);
  try {
    return lib.C_FindObjects(session, 64);
  } finally {
    lib.C_FindObjectsFinal(session);
  }
}

function attribute(lib: PKCS11, session: Handle, object: Handle, type: number): Buffer {
  return lib.C_GetAttributeValue(session, object, [{ type }])[0]!.value as Buffer;
}

function keyTemplate(cls: number, config: Pick<Pkcs11KeyConfig, 'keyLabel' | 'keyId'>): pkcs11js.Template {
  const t: pkcs11js.Template = [{ type: pkcs11js.CKA_CLASS, value: cls }];
  if (config.keyLabel !== undefined) t.push({ type: pkcs11js.CKA_LABEL, value: config.keyLabel });
  if (config.keyId !== undefined) t.push({ type: pkcs11js.CKA_ID, value: Buffer.from(config.keyId) });
  return t;
}

function keyName(config: Pick<Pkcs11KeyConfig, 'keyLabel' | 'keyId'>): string {
  const parts = [];
  if (config.keyLabel !== undefined) parts.push(`label "${config.keyLabel}"`);
  if (config.keyId !== undefined) parts.push(`id ${Buffer.from(config.keyId).toString('hex')}`);
  return parts.join(' and ');
}

const CURVE_OF: Record<string, KeyAlgorithm> = { [OID.prime256v1]: 'ECDSA-P256', [OID.secp384r1]: 'ECDSA-P384' };
const CURVE_PARAMS: Partial<Record<KeyAlgorithm, string>> = { 'ECDSA-P256': OID.prime256v1, 'ECDSA-P384': OID.secp384r1 };

/** The key algorithm of a key object (private or public), or a description of what it is instead. */
function keyAlgorithmOf(lib: PKCS11, session: Handle, key: Handle): KeyAlgorithm | string {
  const type = attribute(lib, session, key, pkcs11js.CKA_KEY_TYPE).readUIntLE(0, 4);
  if (type === pkcs11js.CKK_EC) {
    const params = attribute(lib, session, key, pkcs11js.CKA_EC_PARAMS);
    let curve: string;
    try {
      curve = readOid(readDer(params), 'ECParameters');
    } catch {
      return 'an EC key with explicit curve parameters';
    }
    return CURVE_OF[curve] ?? `an EC key on curve ${curve}`;
  }
  if (type === pkcs11js.CKK_RSA) {
    const modulus = attribute(lib, session, key, pkcs11js.CKA_MODULUS);
    let bits = modulus.length * 8;
    for (let i = 0; i < modulus.length && modulus[i] === 0; i++) bits -= 8;
    if (bits === 2048) return 'RSA-2048';
    if (bits === 3072) return 'RSA-3072';
    return `an RSA-${bits} key`;
  }
  return `a key of type ${type}`;
}

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** SubjectPublicKeyInfo DER of a public key object. */
function publicKeyInfo(lib: PKCS11, session: Handle, key: Handle, algorithm: KeyAlgorithm): Uint8Array {
  if (algorithmSpec(algorithm).family === 'RSA') {
    const n = attribute(lib, session, key, pkcs11js.CKA_MODULUS);
    const e = attribute(lib, session, key, pkcs11js.CKA_PUBLIC_EXPONENT);
    return new Uint8Array(createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e) }, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
  }
  let point: Uint8Array = attribute(lib, session, key, pkcs11js.CKA_EC_POINT);
  const size = algorithm === 'ECDSA-P256' ? 32 : 48;
  // PKCS#11 v2.40 §2.3.3: CKA_EC_POINT is the DER OCTET STRING of the point; some tokens give the bare point
  if (point.length === 2 * size + 3 && point[0] === Tag.OCTET_STRING) point = readDer(point).content;
  if (point.length !== 2 * size + 1 || point[0] !== 0x04) throw new Error('CKA_EC_POINT is not an uncompressed point');
  const jwk = { kty: 'EC', crv: algorithm === 'ECDSA-P256' ? 'P-256' : 'P-384', x: b64u(point.subarray(1, 1 + size)), y: b64u(point.subarray(1 + size)) };
  return new Uint8Array(createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
}

const PROBE = new TextEncoder().encode('readiness probe');

/** DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1): CKM_RSA_PKCS signs DigestInfo ‖ hash. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

// ---------------------------------------------------------------------------------------------
// The signer.

interface Connection {
  slot: Handle;
  key: Handle;
  idle: Handle[];
  /** sessions handed out or idle */
  open: number;
}

export type Pkcs11State = 'ok' | 'unavailable';

interface Lease {
  connection: Connection;
  session: Handle;
}

export class Pkcs11Signer implements Signer {
  readonly algorithm: KeyAlgorithm;
  readonly certificate: Uint8Array;
  readonly chain: readonly Uint8Array[];
  readonly signatureAlgorithm: Uint8Array;
  /** Why the token is unavailable, while it is; undefined when it answers. */
  lost: string | undefined;
  private readonly ecdsa: boolean;
  private readonly size: number;
  private connection: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  /** signatures waiting for a session: every one is in use */
  private readonly waiting: { resolve: (lease: Lease) => void; reject: (err: unknown) => void }[] = [];
  private closed = false;
  /** told when the token goes away and when it is back */
  onStateChange?: (state: Pkcs11State, reason?: string) => void;

  private constructor(
    private readonly lib: PKCS11,
    private readonly config: Pkcs11KeyConfig,
    private readonly pin: string,
    first: Connection,
    algorithm: KeyAlgorithm,
    certificate: Uint8Array,
    chain: Uint8Array[],
  ) {
    this.algorithm = algorithm;
    this.certificate = certificate;
    this.chain = chain;
    const spec = algorithmSpec(algorithm);
    this.signatureAlgorithm = spec.signatureAlgorithm;
    this.ecdsa = spec.family === 'ECDSA';
    this.size = config.sessions ?? 4;
    this.connection = first;
  }

  /**
   * Loads the module, finds the token, logs in, finds the key and its certificate, and checks
   * with a probe signature that the certificate certifies the key. Throws `Pkcs11SetupError`.
   */
  static async open(config: Pkcs11KeyConfig): Promise<Pkcs11Signer> {
    if (config.tokenLabel === undefined && config.slot === undefined) throw new Pkcs11SetupError('token', 'name the token by label or slot');
    if (config.keyLabel === undefined && config.keyId === undefined) throw new Pkcs11SetupError('key', 'name the key by label or id');
    if (config.sessions !== undefined && !(Number.isInteger(config.sessions) && config.sessions >= 1)) throw new RangeError('sessions must be a positive integer');
    const pin = await readPin(config.pinFile);
    const lib = acquireModule(config.module);
    let connection: Connection | undefined;
    try {
      connection = connect(lib, config, pin);
      const session = connection.idle[0]!;
      const algorithm = keyAlgorithmOf(lib, session, connection.key);
      if (!isKeyAlgorithm(algorithm)) throw new Pkcs11SetupError('key', `the key with ${keyName(config)} is ${algorithm}; use ECDSA P-256/P-384 or RSA 2048/3072`);
      const { certificate, chain } = await certificates(lib, session, config, connection.key);
      const signer = new Pkcs11Signer(lib, config, pin, connection, algorithm, certificate, chain);
      const cert = parseCertificate(certificate);
      const certSetting = config.certFile !== undefined ? 'certFile' : 'key';
      if (cert.publicKey.keyAlgorithm !== algorithm) {
        throw new Pkcs11SetupError(certSetting, `the certificate is for ${cert.publicKey.keyAlgorithm ?? 'another kind of key'}, the key with ${keyName(config)} is ${algorithm}`);
      }
      const probe = randomBytes(32);
      const signature = await signer.sign(probe);
      const publicKey = createPublicKey({ key: Buffer.from(cert.publicKey.der), format: 'der', type: 'spki' });
      if (!nativeVerify('sha256', probe, signer.ecdsa ? { key: publicKey, dsaEncoding: 'der' } : publicKey, signature)) {
        throw new Pkcs11SetupError(certSetting, `the certificate does not certify the key with ${keyName(config)}`);
      }
      return signer;
    } catch (err) {
      if (connection) closeSessions(lib, connection);
      releaseModule(config.module);
      if (err instanceof Pkcs11SetupError) throw err;
      throw new Pkcs11SetupError('module', `the token does not answer as expected: ${describe(err)}`, { cause: err });
    }
  }

  /** The signature value as CMS carries it (Signer.ts), made by the token over the SHA-256 hash of `data`. */
  async sign(data: Uint8Array): Promise<Uint8Array> {
    const hash = createHash('sha256').update(data).digest();
    const input = this.ecdsa ? hash : Buffer.concat([SHA256_DIGEST_INFO, hash]);
    const { connection, session } = await this.acquire();
    let value: Buffer;
    try {
      this.lib.C_SignInit(session, { mechanism: this.ecdsa ? pkcs11js.CKM_ECDSA : pkcs11js.CKM_RSA_PKCS }, connection.key);
      value = await this.lib.C_SignAsync(session, input, Buffer.alloc(this.ecdsa ? 2 * 48 : 512));
    } catch (err) {
      const code = ckr(err);
      if (code && LOST.has(code)) {
        this.drop(connection, `${code} while signing`);
        throw new Pkcs11UnavailableError(`the PKCS#11 token is unavailable: ${code}`, { cause: err });
      }
      this.release(connection, session);
      throw err;
    }
    this.release(connection, session);
    if (this.lost !== undefined) {
      this.lost = undefined;
      this.onStateChange?.('ok');
    }
    return this.ecdsa ? ecdsaSigValueFromP1363(value) : new Uint8Array(value);
  }

  /**
   * Whether the key signs now (GET /readyz): a probe signature, so that a token whose objects
   * are gone is seen as it is; reconnects when the token was lost.
   */
  async check(): Promise<Pkcs11State> {
    try {
      await this.sign(PROBE);
      return 'ok';
    } catch {
      return 'unavailable';
    }
  }

  /** Closes the sessions; the module is finalized with its last signer. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new Error('the PKCS#11 signer is closed'));
    if (this.connection) closeSessions(this.lib, this.connection);
    this.connection = undefined;
    releaseModule(this.config.module);
  }

  private async acquire(): Promise<Lease> {
    if (this.closed) throw new Error('the PKCS#11 signer is closed');
    let connection = this.connection ?? (await this.reconnect());
    // dropped again while connecting: connect anew (a failure to connect throws)
    while (connection !== this.connection) connection = this.connection ?? (await this.reconnect());
    const idle = connection.idle.pop();
    if (idle) return { connection, session: idle };
    if (connection.open < this.size) {
      connection.open++;
      try {
        return { connection, session: this.lib.C_OpenSession(connection.slot, pkcs11js.CKF_SERIAL_SESSION) };
      } catch (err) {
        connection.open--;
        this.drop(connection, `${ckr(err) ?? describe(err)} opening a session`);
        throw new Pkcs11UnavailableError(`the PKCS#11 token is unavailable: ${ckr(err) ?? describe(err)}`, { cause: err });
      }
    }
    return new Promise<Lease>((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(connection: Connection, session: Handle): void {
    if (connection !== this.connection) {
      // a session of a connection dropped meanwhile
      try {
        this.lib.C_CloseSession(session);
      } catch {
        // gone with its token
      }
      return;
    }
    const next = this.waiting.shift();
    if (next) next.resolve({ connection, session });
    else connection.idle.push(session);
  }

  /** Forgets a connection whose token or sessions are gone; the next `acquire` connects anew. */
  private drop(connection: Connection, reason: string): void {
    if (connection !== this.connection) return;
    this.connection = undefined;
    closeSessions(this.lib, connection);
    if (this.lost === undefined) {
      this.lost = reason;
      this.onStateChange?.('unavailable', reason);
    }
    // signatures waiting for a session of the lost connection start again on a new one
    for (const w of this.waiting.splice(0)) this.acquire().then(w.resolve, w.reject);
  }

  /** One connection attempt at a time; every caller waits for the same one. */
  private reconnect(): Promise<Connection> {
    if (!this.connecting) {
      const attempt = this.connectAgain();
      this.connecting = attempt;
      attempt.then(
        () => this.connecting === attempt && (this.connecting = undefined),
        () => this.connecting === attempt && (this.connecting = undefined),
      );
    }
    return this.connecting;
  }

  private async connectAgain(): Promise<Connection> {
    try {
      const connection = connect(this.lib, this.config, this.pin);
      const algorithm = keyAlgorithmOf(this.lib, connection.idle[0]!, connection.key);
      if (algorithm !== this.algorithm) {
        closeSessions(this.lib, connection);
        throw new Error(`the key with ${keyName(this.config)} is now ${algorithm}`);
      }
      // back only when a signature succeeds on it (see `sign`): a token may list objects it cannot use
      this.connection = connection;
      return connection;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (this.lost === undefined) {
        this.lost = reason;
        this.onStateChange?.('unavailable', reason);
      }
      throw new Pkcs11UnavailableError(`the PKCS#11 token is unavailable: ${reason}`, { cause: err });
    }
  }
}

function isKeyAlgorithm(a: string): a is KeyAlgorithm {
  return a === 'ECDSA-P256' || a === 'ECDSA-P384' || a === 'RSA-2048' || a === 'RSA-3072';
}

/** Finds the slot, opens a first session, logs in and finds the private key. */
function connect(lib: PKCS11, config: Pkcs11KeyConfig, pin: string): Connection {
  const slot = findSlot(lib, config);
  const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
  const connection: Connection = { slot, key: Buffer.alloc(0), idle: [session], open: 1 };
  try {
    login(lib, session, pin);
    const keys = findObjects(lib, session, keyTemplate(pkcs11js.CKO_PRIVATE_KEY, config));
    if (keys.length === 0) throw new Pkcs11SetupError('key', `no private key with ${keyName(config)} on the token`);
    if (keys.length > 1) throw new Pkcs11SetupError('key', `${keys.length} private keys with ${keyName(config)} on the token: name one (label and id)`);
    connection.key = keys[0]!;
    return connection;
  } catch (err) {
    closeSessions(lib, connection);
    throw err;
  }
}

function closeSessions(lib: PKCS11, connection: Connection): void {
  for (const s of connection.idle.splice(0)) {
    try {
      lib.C_CloseSession(s);
    } catch {
      // the token is gone: so is the session
    }
  }
}

/** The certificate and chain: from the files, or from the token's certificate objects. */
async function certificates(lib: PKCS11, session: Handle, config: Pkcs11KeyConfig, key: Handle): Promise<{ certificate: Uint8Array; chain: Uint8Array[] }> {
  const fromFile = async (file: string, setting: Pkcs11Setting) => {
    try {
      return await readCertificateFile(file);
    } catch (err) {
      throw new Pkcs11SetupError(setting, describe(err), { cause: err });
    }
  };
  const extra = config.chainFile !== undefined ? await fromFile(config.chainFile, 'chainFile') : [];
  if (config.certFile !== undefined) {
    const [leaf, ...rest] = await fromFile(config.certFile, 'certFile');
    return { certificate: leaf!, chain: orderChain(leaf!, [...rest, ...extra]) };
  }
  const id = attribute(lib, session, key, pkcs11js.CKA_ID);
  const label = attribute(lib, session, key, pkcs11js.CKA_LABEL).toString('utf8');
  const certClass = { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE };
  let leaves = id.length > 0 ? findObjects(lib, session, [certClass, { type: pkcs11js.CKA_ID, value: id }]) : [];
  if (leaves.length === 0 && label !== '') leaves = findObjects(lib, session, [certClass, { type: pkcs11js.CKA_LABEL, value: label }]);
  if (leaves.length !== 1) {
    throw new Pkcs11SetupError('certFile', `${leaves.length === 0 ? 'no' : leaves.length} certificate${leaves.length === 1 ? '' : 's'} on the token for the key with ${keyName(config)}: give the certificate file`);
  }
  const leaf = new Uint8Array(attribute(lib, session, leaves[0]!, pkcs11js.CKA_VALUE));
  const others = findObjects(lib, session, [certClass])
    .map((h) => new Uint8Array(attribute(lib, session, h, pkcs11js.CKA_VALUE)))
    .filter((c) => !equalBytes(c, leaf));
  // of the token's other certificates, only the leaf's issuers up to the root
  const ordered = orderChain(leaf, others);
  let n = 0;
  for (let child = parseCertificate(leaf); n < ordered.length && equalBytes(parseCertificate(ordered[n]!).subject, child.issuer); n++) child = parseCertificate(ordered[n]!);
  return { certificate: leaf, chain: orderChain(leaf, [...ordered.slice(0, n), ...extra]) };
}

// ---------------------------------------------------------------------------------------------
// Provisioning (development PKI, tests).

export interface TokenLogin {
  module: string;
  tokenLabel?: string;
  slot?: number;
  pinFile: string;
}

async function withUserSession<T>(where: TokenLogin, fn: (lib: PKCS11, session: Handle) => T): Promise<T> {
  const pin = await readPin(where.pinFile);
  const lib = acquireModule(where.module);
  try {
    const slot = findSlot(lib, where);
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      login(lib, session, pin);
      return fn(lib, session);
    } finally {
      lib.C_CloseSession(session);
    }
  } finally {
    releaseModule(where.module);
  }
}

/**
 * Generates a key pair on the token: the private key sensitive, never extractable, for
 * signing only; both halves token objects with `label` and `id`. Returns the public key as a
 * SubjectPublicKeyInfo DER. An existing key with that label or id is an error.
 */
export async function generateTokenKeyPair(where: TokenLogin, algorithm: KeyAlgorithm, label: string, id: Uint8Array): Promise<Uint8Array> {
  return withUserSession(where, (lib, session) => {
    for (const t of [keyTemplate(pkcs11js.CKO_PRIVATE_KEY, { keyLabel: label }), keyTemplate(pkcs11js.CKO_PRIVATE_KEY, { keyId: id })]) {
      if (findObjects(lib, session, t).length > 0) throw new Pkcs11SetupError('key', `the token already holds a private key with ${keyName({ keyLabel: label })} or id ${Buffer.from(id).toString('hex')}`);
    }
    const common = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
    ];
    const privateTemplate = [
      ...common,
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: false },
      { type: pkcs11js.CKA_UNWRAP, value: false },
      { type: pkcs11js.CKA_DERIVE, value: false },
    ];
    const publicTemplate: pkcs11js.Template = [...common, { type: pkcs11js.CKA_VERIFY, value: true }];
    let mechanism: number;
    const curve = CURVE_PARAMS[algorithm];
    if (curve !== undefined) {
      mechanism = pkcs11js.CKM_EC_KEY_PAIR_GEN;
      publicTemplate.push({ type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from(oid(curve)) });
    } else {
      mechanism = pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN;
      publicTemplate.push({ type: pkcs11js.CKA_MODULUS_BITS, value: algorithm === 'RSA-2048' ? 2048 : 3072 });
      publicTemplate.push({ type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) });
    }
    const keys = lib.C_GenerateKeyPair(session, { mechanism }, publicTemplate, privateTemplate);
    return publicKeyInfo(lib, session, keys.publicKey, algorithm);
  });
}

/** Stores an X.509 certificate on the token as a public token object with `label` and `id`. */
export async function storeTokenCertificate(where: TokenLogin, certificate: Uint8Array, label: string, id: Uint8Array): Promise<void> {
  const cert = parseCertificate(certificate);
  await withUserSession(where, (lib, session) => {
    lib.C_CreateObject(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
      { type: pkcs11js.CKA_CERTIFICATE_TYPE, value: pkcs11js.CKC_X_509 },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(id) },
      { type: pkcs11js.CKA_SUBJECT, value: Buffer.from(cert.subject) },
      { type: pkcs11js.CKA_ISSUER, value: Buffer.from(cert.issuer) },
      { type: pkcs11js.CKA_VALUE, value: Buffer.from(certificate) },
    ]);
  });
}

/** What the token says of a private key's protection (CKA_SENSITIVE, CKA_EXTRACTABLE…), for checks and reports. */
export async function tokenKeyProtection(
  where: TokenLogin,
  key: Pick<Pkcs11KeyConfig, 'keyLabel' | 'keyId'>,
): Promise<{ sensitive: boolean; extractable: boolean; alwaysSensitive: boolean; neverExtractable: boolean; valueReadable: boolean }> {
  return withUserSession(where, (lib, session) => {
    const [handle] = findObjects(lib, session, keyTemplate(pkcs11js.CKO_PRIVATE_KEY, key));
    if (!handle) throw new Pkcs11SetupError('key', `no private key with ${keyName(key)} on the token`);
    const flag = (type: number) => attribute(lib, session, handle, type)[0] === 1;
    let valueReadable = true;
    try {
      const secret = algorithmSpec(keyAlgorithmOf(lib, session, handle) as KeyAlgorithm).family === 'RSA' ? pkcs11js.CKA_PRIVATE_EXPONENT : pkcs11js.CKA_VALUE;
      attribute(lib, session, handle, secret);
    } catch (err) {
      if (ckr(err) !== 'CKR_ATTRIBUTE_SENSITIVE') throw err;
      valueReadable = false;
    }
    return {
      sensitive: flag(pkcs11js.CKA_SENSITIVE),
      extractable: flag(pkcs11js.CKA_EXTRACTABLE),
      alwaysSensitive: flag(pkcs11js.CKA_ALWAYS_SENSITIVE),
      neverExtractable: flag(pkcs11js.CKA_NEVER_EXTRACTABLE),
      valueReadable,
    };
  });
}


