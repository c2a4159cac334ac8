// JSON rule files the fast way. The YAML parser reads JSON too (parse.ts), but it took ~2.8 s for
// a generated covenant of 10,000 rules (3.9 MB), most of a reload. JSON.parse makes the value
// (~30 ms) and jsonc-parser's syntax tree (~200 ms, built only when a message needs a line) gives
// the positions. A text that JSON.parse refuses goes the YAML way as before, which reports its
// errors, or reads it as the YAML it may be.
import { parseTree, type Node as JsonNode } from 'jsonc-parser';
import type { Diagnostic, ParsedDocument, SourcePosition } from '../domain/types.js';

export type JsonOutcome = { ok: true; document: ParsedDocument } | { ok: false; diagnostics: Diagnostic[] };

/** A .json file's outcome, or undefined when JSON.parse refuses it (the caller then parses it as YAML). */
export function parseJsonText(file: string, text: string, name: string, digest: string): JsonOutcome | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  let tree: JsonNode | undefined;
  let lines: number[] | undefined;
  const root = (): JsonNode | undefined => (tree ??= syntaxTree(text));
  const position = (offset: number): SourcePosition => {
    lines ??= lineStarts(text);
    // the last line that starts at or before offset
    let lo = 0;
    let hi = lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lines[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (lines[lo] as number) + 1 };
  };
  if (keysInText(text) !== keysIn(value)) {
    // JSON.parse keeps the last of two equal keys silently; a rule file must not be ambiguous
    const repeated = repeatedKeys(root());
    if (repeated.length > 0) {
      return {
        ok: false,
        diagnostics: repeated.map((k) => ({ severity: 'error', code: 'syntax', message: `Map keys must be unique: \`${k.name}\` appears twice`, file, ...position(k.offset) })),
      };
    }
  }
  const locate = (path: readonly (string | number)[], at: 'key' | 'value' = 'value'): SourcePosition | undefined => {
    // As the YAML way: as deep as the path goes; a missing tail points at the nearest node that exists.
    let node = root();
    if (!node) return undefined;
    let best = position(node.offset);
    for (let i = 0; i < path.length; i++) {
      const seg = String(path[i]);
      let next: JsonNode | undefined = undefined;
      if (node.type === 'object') {
        const property: JsonNode | undefined = node.children?.find((p) => p.children?.[0]?.value === seg);
        if (!property) break;
        if (i === path.length - 1 && at === 'key') return property.children?.[0] ? position(property.children[0].offset) : best;
        next = property.children?.[1];
      } else if (node.type === 'array' && /^\d+$/.test(seg)) {
        next = node.children?.[Number(seg)];
      }
      if (!next) break;
      node = next;
      best = position(node.offset);
    }
    return best;
  };
  return { ok: true, document: { file, name, digest, text, value: value ?? {}, locate } };
}

/**
 * The first key that a JSON text's object holds twice, if any. JSON.parse keeps the last silently
 * (`subjectCount` 5000 then 1 is 1), which makes a request ambiguous. `parsed` is what JSON.parse
 * made of `text`: when the text holds as many keys as it, none repeats, and the syntax tree, which
 * finds the repeat but costs far more, is not made.
 */
export function duplicateKey(text: string, parsed: unknown): string | undefined {
  if (keysInText(text) === keysIn(parsed)) return undefined;
  return repeatedKeys(syntaxTree(text))[0]?.name;
}

/** jsonc-parser's tree of a text that JSON.parse took: strict JSON, no comments or trailing commas. */
const syntaxTree = (text: string): JsonNode | undefined => parseTree(text, [], { disallowComments: true, allowTrailingComma: false });

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/**
 * The number of keys in a valid JSON text: every key is a string whose closing quote is followed
 * by a colon; a quote inside a string is escaped, by an odd number of backslashes (`"a\\"` ends
 * with an escaped backslash, then its closing quote). Equal to the parsed value's count when no
 * key repeats.
 */
// The quote first, then the look back: a look-behind at the head of the pattern is tried at every
// position, and over a run of n backslashes that took time n² (408 s for a 1 MB run, measured).
const keysInText = (text: string): number => text.match(/"(?<=(?:^|[^\\])(?:\\\\)*")\s*:/g)?.length ?? 0;

/** The keys of every object in a parsed value. */
function keysIn(value: unknown): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
      continue;
    }
    const values = Object.values(v);
    n += values.length;
    for (const x of values) stack.push(x);
  }
  return n;
}

/** Every key an object of the tree holds a second time, with where it stands: one set per object. */
function repeatedKeys(root: JsonNode | undefined): { name: string; offset: number }[] {
  const found: { name: string; offset: number }[] = [];
  const stack: JsonNode[] = root ? [root] : [];
  while (stack.length > 0) {
    const node = stack.pop() as JsonNode;
    if (node.type === 'object') {
      const seen = new Set<string>();
      for (const property of node.children ?? []) {
        const key = property.children?.[0];
        const name = String(key?.value);
        if (seen.has(name)) found.push({ name, offset: key?.offset ?? 0 });
        seen.add(name);
        if (property.children?.[1]) stack.push(property.children[1]);
      }
    } else if (node.type === 'array') {
      for (const child of node.children ?? []) stack.push(child);
    }
  }
  return found.sort((a, b) => a.offset - b.offset);
}
