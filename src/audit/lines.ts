// Reading newline-delimited files in both directions without loading them whole. Only complete
// lines are read: a last line without its newline is a write in progress (or torn by a crash),
// which the log's open() deals with, never its readers.
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';

const CHUNK = 1 << 16;

/** The offset just past the last newline: where the complete lines end. */
export async function completeEnd(fh: FileHandle): Promise<number> {
  const size = (await fh.stat()).size;
  const buf = Buffer.alloc(CHUNK);
  for (let end = size; end > 0; end -= CHUNK) {
    const n = Math.min(CHUNK, end);
    await fh.read(buf, 0, n, end - n);
    const nl = buf.subarray(0, n).lastIndexOf(10);
    if (nl !== -1) return end - n + nl + 1;
  }
  return 0;
}

/** Complete lines oldest first, from byte `start` (a line's start); `line` counts from there, 1-based. */
export async function* forwardLines(path: string, start = 0): AsyncGenerator<{ text: string; line: number }> {
  const fh = await open(path, 'r');
  const end = await completeEnd(fh).finally(() => fh.close());
  if (end <= start) return;
  const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20, start, end: end - 1 });
  const rl = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      if (text.length > 0) yield { text, line };
    }
  } finally {
    // A reader that stops early must stop the file too, or it is read to its end regardless.
    rl.close();
    input.destroy();
  }
}

/** The first complete line, read directly: no stream for one line. */
export async function firstLine(path: string): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    const end = await completeEnd(fh);
    const buf = Buffer.alloc(Math.min(CHUNK, end));
    let text = '';
    for (let at = 0; at < end; at += buf.length) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - at), at);
      const nl = buf.subarray(0, bytesRead).indexOf(10);
      if (nl !== -1) return text + buf.subarray(0, nl).toString('utf8');
      text += buf.subarray(0, bytesRead).toString('utf8');
    }
    return undefined;
  } finally {
    await fh.close();
  }
}

/** Complete lines newest first, reading the file backwards in chunks. */
export async function* backwardLines(path: string): AsyncGenerator<string> {
  const fh = await open(path, 'r');
  try {
    let position = await completeEnd(fh);
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
