// Signing C2SP signed notes with Ed25519: the log's checkpoints and a witness's cosignatures.
// Keys are written in the text forms of Go's golang.org/x/mod/sumdb/note, so that other tools of
// the transparency-log world read them: `PRIVATE+KEY+name+keyid+base64(type || seed)` to sign,
// `name+keyid+base64(type || public key)` to verify.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { noteKeyId, splitKey, validKeyName } from '../verifier/receipt.js';

const SIG_ED25519 = 0x01;
const SIG_COSIGNATURE_V1 = 0x04;
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');

export interface NoteSigner {
  readonly name: string;
  /** the verifier key, in C2SP's text form */
  readonly verifierKey: string;
  /** A signed note of `text` (which ends with a newline); signs on libuv's thread pool. */
  signNote(text: string): Promise<string>;
  /** A C2SP tlog-cosignature/v1 line for a checkpoint's note text, at `time` (seconds). */
  cosign(text: string, time: number): string;
}

export type KeyResult = { ok: true; signer: NoteSigner } | { ok: false; reason: string };

/** A new signing key for `name`, in its text form. */
export function generateSignerKey(name: string): string {
  if (!validKeyName(name)) throw new Error(`\`${name}\` cannot name a key: no spaces or plus signs`);
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = (privateKey.export({ format: 'der', type: 'pkcs8' }) as Buffer).subarray(PKCS8_ED25519.length);
  const pub = rawPublicKey(privateKey);
  return `PRIVATE+KEY+${name}+${noteKeyId(name, SIG_ED25519, pub).toString('hex')}+${Buffer.concat([Buffer.of(SIG_ED25519), seed]).toString('base64')}`;
}

/** Reads a signing key's text form; `type` 0x04 for a witness's cosigning key. */
export function parseSignerKey(text: string, type: 'log' | 'witness' = 'log'): KeyResult {
  const parts = splitKey(text, 5);
  if (!parts || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') return { ok: false, reason: 'not a signing key: expected `PRIVATE+KEY+name+keyid+key`' };
  const [, , name, id, key] = parts as [string, string, string, string, string];
  const raw = Buffer.from(key, 'base64');
  if (!validKeyName(name) || raw.length !== 33 || raw[0] !== SIG_ED25519) return { ok: false, reason: 'not an Ed25519 signing key' };
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, raw.subarray(1)]), format: 'der', type: 'pkcs8' });
  const pub = rawPublicKey(privateKey);
  if (noteKeyId(name, SIG_ED25519, pub).toString('hex') !== id) return { ok: false, reason: 'the key id does not match the key' };
  const signType = type === 'log' ? SIG_ED25519 : SIG_COSIGNATURE_V1;
  const keyId = noteKeyId(name, signType, pub);
  const verifierKey = `${name}+${keyId.toString('hex')}+${Buffer.concat([Buffer.of(signType), pub]).toString('base64')}`;
  return {
    ok: true,
    signer: {
      name,
      verifierKey,
      signNote: (text) =>
        new Promise((resolve, reject) =>
          sign(null, Buffer.from(text, 'utf8'), privateKey, (e, sig) => (e ? reject(e) : resolve(`${text}\n\u2014 ${name} ${Buffer.concat([keyId, sig]).toString('base64')}\n`))),
        ),
      cosign: (text, time) => {
        const stamp = Buffer.alloc(8);
        stamp.writeBigUInt64BE(BigInt(time));
        const sig = sign(null, Buffer.from(`cosignature/v1\ntime ${time}\n${text}`, 'utf8'), privateKey);
        return `\u2014 ${name} ${Buffer.concat([keyId, stamp, sig]).toString('base64')}\n`;
      },
    },
  };
}

/** A witness's cosigning verifier key: `name+keyid+base64(0x04 || 32-byte Ed25519 public key)`. */
export function parseCosignerKey(text: string): { ok: true; name: string; keyId: Buffer; publicKey: KeyObject } | { ok: false; reason: string } {
  const parts = splitKey(text, 3);
  const [name, id, key] = (parts ?? ['', '', '']) as [string, string, string];
  const raw = Buffer.from(key, 'base64');
  if (!parts || !validKeyName(name) || raw.length !== 33 || raw[0] !== SIG_COSIGNATURE_V1) return { ok: false, reason: 'not a cosigner key: expected `name+keyid+key` of type 0x04' };
  const keyId = noteKeyId(name, SIG_COSIGNATURE_V1, raw.subarray(1));
  if (keyId.toString('hex') !== id) return { ok: false, reason: 'the key id does not match the name and key' };
  return { ok: true, name, keyId, publicKey: createPublicKey({ key: Buffer.concat([ED25519_SPKI, raw.subarray(1)]), format: 'der', type: 'spki' }) };
}

/** The time (seconds) of a valid cosignature by `cosigner` on a signed note, if it has one. */
export function cosignedAt(note: string, cosigner: { name: string; keyId: Buffer; publicKey: KeyObject }): number | undefined {
  const at = note.lastIndexOf('\n\n');
  if (at === -1) return undefined;
  const text = note.slice(0, at + 1);
  for (const line of note.slice(at + 2).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m || m[1] !== cosigner.name) continue;
    const blob = Buffer.from(m[2] as string, 'base64');
    if (blob.length !== 76 || Buffer.compare(blob.subarray(0, 4), cosigner.keyId) !== 0) continue;
    const time = blob.readBigUInt64BE(4);
    if (verify(null, Buffer.from(`cosignature/v1\ntime ${time}\n${text}`, 'utf8'), cosigner.publicKey, blob.subarray(12))) return Number(time);
  }
  return undefined;
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  return (createPublicKey(privateKey).export({ format: 'der', type: 'spki' }) as Buffer).subarray(12);
}
