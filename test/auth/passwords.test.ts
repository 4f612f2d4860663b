import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { hashPassword, verifyPassword } from '../../src/auth/passwords';

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
