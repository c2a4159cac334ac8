// Text to data, keeping the way back to line and column. A .json file that JSON.parse takes is
// read the fast way (parse-json.ts); anything else by the YAML parser, which also reads JSON
// (JSON is YAML 1.2) and reports errors the same way for both. A duplicate key is an error in
// both ways rather than JSON.parse's silent "last one wins".
import { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar, visit, type Node } from 'yaml';
import type { Diagnostic, ParsedDocument, SourcePosition } from '../domain/types.js';
import { digestOf } from '../compile/version.js';
import { parseJsonText } from './parse-json.js';

export type ParseOutcome = { ok: true; document: ParsedDocument } | { ok: false; diagnostics: Diagnostic[] };

export function parseText(file: string, text: string, name: string = file): ParseOutcome {
  const digest = digestOf(text);
  const deep = tooDeep(text);
  if (deep !== undefined) {
    return {
      ok: false,
      diagnostics: [
        {
          severity: 'error',
          code: 'syntax',
          message: `nested too deeply: more than ${MAX_FLOW_DEPTH} open brackets or braces, or a line indented more than ${MAX_INDENT} columns`,
          file,
          ...deep,
        },
      ],
    };
  }
  if (/\.json$/i.test(file)) {
    const fast = parseJsonText(file, text, name, digest);
    if (fast) return fast;
  }
  const lineCounter = new LineCounter();
  // Core schema (YAML 1.2): unquoted 2025-12-31 stays a string, as do yes/no/on/off.
  // Keys are checked for duplicates here (repeatedKeys), not by the parser: its check compares each
  // key with every one before it, and 50,000 keys took 31 s; a set per map takes linear time.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, schema: 'core' });
  const diagnostics: Diagnostic[] = doc.errors.map((e) => {
    const pos = lineCounter.linePos(e.pos[0]);
    return {
      severity: 'error',
      code: 'syntax',
      message: firstLine(e.message),
      file,
      line: pos.line,
      column: pos.col,
    };
  });
  for (const key of repeatedKeys(doc)) {
    const pos = lineCounter.linePos(key.offset);
    diagnostics.push({ severity: 'error', code: 'syntax', message: `Map keys must be unique: \`${key.name}\` appears twice`, file, line: pos.line, column: pos.col });
  }
  if (diagnostics.length > 0) return { ok: false, diagnostics };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    return {
      ok: false,
      diagnostics: [{ severity: 'error', code: 'syntax', message: firstLine((e as Error).message), file, line: 1, column: 1 }],
    };
  }
  const position = (offset: number): SourcePosition => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  // Aliases can make a small text a huge value, or a value that holds itself; either passed
  // validation and then stalled or crashed whatever rendered it (near misses, the matrix).
  const aliased = aliasProblem(value, text.length + 1000);
  if (aliased !== undefined) {
    let at: SourcePosition = { line: 1, column: 1 };
    visit(doc, {
      Alias(_, node) {
        at = rangeStart(node, position) ?? at;
        return visit.BREAK;
      },
    });
    return { ok: false, diagnostics: [{ severity: 'error', code: 'syntax', message: aliased, file, ...at }] };
  }
  const locate = (path: readonly (string | number)[], at: 'key' | 'value' = 'value'): SourcePosition | undefined => {
    // Walk as deep as the path goes; a missing tail points at the nearest node that exists.
    let node: unknown = doc.contents;
    let best: SourcePosition | undefined = rangeStart(node, position);
    for (let i = 0; i < path.length; i++) {
      const seg = path[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const last = i === path.length - 1;
        if (last && at === 'key') return rangeStart(pair.key, position) ?? best;
        node = pair.value;
      } else if (isSeq(node) && /^\d+$/.test(String(seg))) {
        node = node.items[Number(seg)];
      } else {
        break;
      }
      best = rangeStart(node, position) ?? best;
    }
    return best;
  };
  return { ok: true, document: { file, name, digest, text, value: value ?? {}, locate } };
}

/**
 * Why a parsed value is refused, if it is: more values than `limit` once aliases are expanded
 * (without aliases a text holds fewer values than characters), or a value that holds itself.
 */
function aliasProblem(value: unknown, limit: number): string | undefined {
  let count = 0;
  const onPath = new Set<object>();
  const stack: { v: unknown; leave?: object }[] = [{ v: value }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (top.leave) {
      onPath.delete(top.leave);
      continue;
    }
    if (++count > limit) return `aliases expand this file to more than ${limit} values: refused, as a small text must not become a huge covenant`;
    const v = top.v;
    if (typeof v !== 'object' || v === null) continue;
    if (onPath.has(v)) return 'an alias refers to a value that holds the alias itself: the value would be infinite';
    onPath.add(v);
    stack.push({ v: undefined, leave: v });
    for (const child of Object.values(v)) stack.push({ v: child });
  }
  return undefined;
}

function rangeStart(node: unknown, position: (o: number) => SourcePosition): SourcePosition | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range ? position(range[0]) : undefined;
}

const firstLine = (s: string): string => s.split('\n')[0] ?? s;

// The YAML parser recurses into every collection: some hundreds of levels overflow the stack, and
// after an overflow inside it V8 was seen to run out of memory compiling a regular expression on
// the next parse, taking the process down. A covenant needs a handful of levels, so text that
// could nest deeper than these limits is refused before it is parsed.
const MAX_FLOW_DEPTH = 64;
const MAX_INDENT = 256;

/**
 * Where a text could nest deeper than the limits, or undefined. Brackets and braces are counted
 * wherever they stand, also inside quoted text: a covenant never holds 64 unclosed ones, and not
 * telling quotes apart leaves no way to hide nesting from the count. Block nesting needs
 * indentation, so that is bounded by the widest indentation.
 */
function tooDeep(text: string): { line: number; column: number } | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  let indenting = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      lineStart = i + 1;
      indenting = true;
      continue;
    }
    if (indenting && c === 32) {
      if (i - lineStart >= MAX_INDENT) return { line, column: i - lineStart + 1 };
      continue;
    }
    indenting = false;
    if (c === 91 || c === 123) {
      if (++depth > MAX_FLOW_DEPTH) return { line, column: i - lineStart + 1 };
    } else if ((c === 93 || c === 125) && depth > 0) {
      depth--;
    }
  }
  return undefined;
}

/** Every key that a map of the document holds a second time, with where it stands: one set per map. */
function repeatedKeys(doc: ReturnType<typeof parseDocument>): { name: string; offset: number }[] {
  const found: { name: string; offset: number }[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = pair.key;
        // scalar keys, as rule files and requests have; a key that is a collection is left to the schema
        if (!isScalar(key)) continue;
        const name = String(key.value);
        if (seen.has(name)) found.push({ name, offset: key.range?.[0] ?? 0 });
        seen.add(name);
      }
    },
  });
  return found;
}
