import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { open, seal } from '../../src/crypto/secret-box';

describe('secret envelopes', () => {
  const key = randomBytes(32);

  it('open gives back what seal took, the first time and the next ones', () => {
    const envelope = seal(key, 'a project secret');
    assert.match(envelope, /^enc:v1:/);
    assert.equal(open(key, envelope), 'a project secret');
    assert.equal(open(key, envelope), 'a project secret');
  });

  it('an envelope altered after an opened one is refused, not answered from memory', () => {
    const envelope = seal(key, 'another secret');
    assert.equal(open(key, envelope), 'another secret');
    const raw = Buffer.from(envelope.slice('enc:v1:'.length), 'base64');
    raw[raw.length - 1] ^= 0xff;
    assert.throws(() => open(key, `enc:v1:${raw.toString('base64')}`));
  });

  it('an envelope opened with one key is not opened with another', () => {
    const envelope = seal(key, 'bound to its key');
    assert.equal(open(key, envelope), 'bound to its key');
    assert.throws(() => open(randomBytes(32), envelope));
  });
});
