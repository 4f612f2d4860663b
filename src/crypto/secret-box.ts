import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { BoundedMap } from '../bounded-map';

const PREFIX = 'enc:v1:';

/**
 * AES-256-GCM envelopes for secrets at rest: `enc:v1:<base64(iv | tag | ciphertext)>`.
 * The version lets a future key rotation tell old envelopes from new ones.
 */
/** The key as a KeyObject, made once: from raw bytes, every cipher would import it again. */
const keyObjects = new WeakMap<Buffer, KeyObject>();

function keyObject(key: Buffer): KeyObject {
  let made = keyObjects.get(key);
  if (!made) keyObjects.set(key, (made = createSecretKey(key)));
  return made;
}

export function seal(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyObject(key), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64');
}

/**
 * Envelopes opened lately, with their plaintext, so that a studio reloading a project page does
 * not pay a cipher set-up per secret per request. This keeps nothing an attacker reading the
 * process's memory would not already have: the key that opens every envelope is there too.
 */
const OPENED_KEPT = 1_000;
const opened = new WeakMap<Buffer, Map<string, string>>();

export function open(key: Buffer, envelope: string): string {
  let known = opened.get(key);
  if (!known) opened.set(key, (known = new BoundedMap<string, string>(OPENED_KEPT)));
  const cached = known.get(envelope);
  if (cached !== undefined) return cached;
  const plaintext = decrypt(key, envelope);
  known.set(envelope, plaintext);
  return plaintext;
}

function decrypt(key: Buffer, envelope: string): string {
  if (!envelope.startsWith(PREFIX)) throw new Error('Not a sealed secret');
  const raw = Buffer.from(envelope.slice(PREFIX.length), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', keyObject(key), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}
