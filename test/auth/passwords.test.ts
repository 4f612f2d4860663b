import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { hashPassword, needsRehash, verifyPassword } from '../../src/auth/passwords';

describe('password hashing under load', () => {
  it('more hashes than cores at once all finish, each with the right answer', async () => {
    const count = availableParallelism() * 2 + 1;
    const hash = await hashPassword('correct horse battery staple');
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        verifyPassword(hash, i % 2 === 0 ? 'correct horse battery staple' : 'wrong horse battery staple'),
      ),
    );
    assert.deepEqual(
      answers,
      Array.from({ length: count }, (_, i) => i % 2 === 0),
    );
  });

  it('a failed verification frees its slot: later ones still run', async () => {
    const results = await Promise.all(
      Array.from({ length: availableParallelism() + 2 }, () => verifyPassword('not a hash', 'anything')),
    );
    assert.ok(results.every((result) => result === false));
    const hash = await hashPassword('still works');
    assert.equal(await verifyPassword(hash, 'still works'), true);
  });
});

describe('legacy bcrypt hashes', () => {
  const hash = bcrypt.hashSync('a legacy passphrase', 4);

  it('verify in each of their $2a$, $2b$ and $2y$ forms, and only with the right password', async () => {
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const legacy = prefix + hash.slice(4);
      assert.equal(await verifyPassword(legacy, 'a legacy passphrase'), true, prefix);
      assert.equal(await verifyPassword(legacy, 'a legacy passphrasE'), false, prefix);
    }
  });

  it('always need a rehash to argon2id, which current argon2id hashes do not', async () => {
    assert.equal(needsRehash(hash), true);
    assert.equal(needsRehash(await hashPassword('a fresh passphrase')), false);
  });
});
