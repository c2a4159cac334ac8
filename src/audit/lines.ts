// Reading newline-delimited files in both directions without loading them whole.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/** Lines oldest first; `line` is 1-based. A last line without a newline is yielded too. */
export async function* forwardLines(path: string): AsyncGenerator<{ text: string; line: number }> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.length > 0) yield { text, line };
  }
}

const CHUNK = 1 << 16;

/** Lines newest first, reading the file backwards in chunks. */
export async function* backwardLines(path: string): AsyncGenerator<string> {
  const fh = await open(path, 'r');
  try {
    let position = (await fh.stat()).size;
    let carry: Buffer = Buffer.alloc(0);
    while (position > 0) {
      const size = Math.min(CHUNK, position);
      position -= size;
      const chunk = Buffer.alloc(size);
      await fh.read(chunk, 0, size, position);
      let buf = Buffer.concat([chunk, carry]);
      let nl = buf.lastIndexOf(10);
      while (nl !== -1) {
        const text = buf.subarray(nl + 1).toString('utf8');
        if (text.length > 0) yield text;
        buf = buf.subarray(0, nl);
        nl = buf.lastIndexOf(10);
      }
      carry = buf;
    }
    if (carry.length > 0) yield carry.toString('utf8');
  } finally {
    await fh.close();
  }
}
