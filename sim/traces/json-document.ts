import { UserError } from "../errors.ts";

/** Largest whole-file JSON document (characters), under V8's ~512M-character string limit. */
export const MAX_JSON_DOCUMENT_CHARS = 384 * 1024 * 1024;

/**
 * A whole-file JSON trace gathered from its lines, so errors can still name file:line: JSON.parse's "position N"
 * and each top-level array element's start are mapped back to the line they are on.
 */
export class JsonDocument {
  private parts: string[] = [];
  private starts: number[] = [];
  private lineNos: number[] = [];
  private length = 0;

  add(text: string, lineNo: number, fileName = "<input>"): void {
    if (this.length + text.length > MAX_JSON_DOCUMENT_CHARS)
      throw new UserError(
        `${fileName}:${lineNo}: whole-file JSON traces are read into memory and this one passes ${MAX_JSON_DOCUMENT_CHARS / 1048576} Mi characters; ` +
          `convert it to JSONL (one request per line) or take a slice`,
        { location: `${fileName}:${lineNo}` },
      );
    this.starts.push(this.length);
    this.lineNos.push(lineNo);
    this.parts.push(text);
    this.length += text.length + 1;
  }

  get text(): string {
    return this.parts.join("\n");
  }

  get firstLine(): string | undefined {
    return this.parts[0];
  }

  get lineCount(): number {
    return this.parts.length;
  }

  lineAt(i: number): { text: string; lineNo: number } {
    return { text: this.parts[i], lineNo: this.lineNos[i] };
  }

  /** The file line holding character `offset` of `text`. */
  lineOf(offset: number): number {
    let lo = 0, hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.lineNos[lo] ?? 1;
  }

  /** JSON.parse of the whole document; a syntax error becomes a UserError at file:line. */
  parse(fileName: string): { value: unknown; text: string } {
    const text = this.text;
    try {
      return { value: JSON.parse(text), text };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const pos = /position (\d+)/.exec(msg);
      const line = pos ? this.lineOf(Number(pos[1])) : this.lineNos[this.lineNos.length - 1] ?? 1;
      throw new UserError(`${fileName}:${line}: not valid JSON (${msg.slice(0, 160)})`, { location: `${fileName}:${line}` });
    }
  }

  /** File line of each top-level array element of `text` (which must be valid JSON). */
  elementLines(text: string): number[] {
    const out: number[] = [];
    let depth = 0, inStr = false, esc = false, expect = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inStr) {
        if (esc) esc = false;
        else if (c === 92) esc = true;
        else if (c === 34) inStr = false;
        continue;
      }
      const ws = c === 32 || c === 10 || c === 13 || c === 9;
      if (depth === 1 && expect && !ws && c !== 93) {
        out.push(this.lineOf(i));
        expect = false;
      }
      if (c === 34) inStr = true;
      else if (c === 91 || c === 123) {
        depth++;
        if (depth === 1 && c === 91) expect = true;
      } else if (c === 93 || c === 125) depth--;
      else if (c === 44 && depth === 1) expect = true;
    }
    return out;
  }
}
