/** A small multipart/form-data reader (RFC 7578) for uploads: parts as bytes, with their names. */

export interface FormPart {
  /** `name` of the part's Content-Disposition */
  name: string;
  /** `filename` of the Content-Disposition, when the part is a file */
  filename?: string;
  /** The part's own Content-Type header, when sent */
  contentType?: string;
  data: Buffer;
}

/** More parts than any upload form needs; bounds the work a hostile body can cause. */
const MAX_PARTS = 100;
const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");

/** The boundary of a `multipart/form-data` Content-Type, or undefined for any other type. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^;\s]{1,200}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** Parameters of a header value such as `form-data; name="f"; filename="a.txt"`. */
function headerParams(value: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /;\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const key = m[1].toLowerCase();
    let v = m[2].trim();
    if (v.startsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, "$1");
    out.set(key, v);
  }
  // RFC 5987 `filename*=UTF-8''a%20b.txt` wins over a plain `filename`.
  const extended = out.get("filename*");
  if (extended) {
    const m = /^[^']*'[^']*'(.*)$/.exec(extended);
    if (m) {
      try {
        out.set("filename", decodeURIComponent(m[1]));
      } catch {
        // A malformed escape: keep the plain filename, if any.
      }
    }
  }
  return out;
}

function parsePartHeaders(text: string): { name?: string; filename?: string; contentType?: string } {
  const out: { name?: string; filename?: string; contentType?: string } = {};
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === "content-disposition") {
      const params = headerParams(value);
      out.name = params.get("name");
      out.filename = params.get("filename");
    } else if (key === "content-type") {
      out.contentType = value;
    }
  }
  return out;
}

/** The parts of a multipart body, or undefined when the body is not well formed. */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const between = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(delimiter);
  // The first delimiter starts the body or follows a preamble that ends with CRLF.
  if (pos < 0 || (pos > 0 && (pos < 2 || !body.subarray(pos - 2, pos).equals(CRLF)))) return undefined;
  const parts: FormPart[] = [];
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts; // "--": the closing delimiter
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++; // transport padding
    if (!body.subarray(pos, pos + 2).equals(CRLF)) return undefined;
    pos += 2;
    const headerEnd = body.indexOf(HEADER_END, pos - 2);
    if (headerEnd < 0) return undefined;
    const headers = parsePartHeaders(body.subarray(pos, headerEnd).toString("utf8"));
    const next = body.indexOf(between, headerEnd + HEADER_END.length);
    if (next < 0 || headers.name === undefined) return undefined;
    parts.push({ name: headers.name, filename: headers.filename, contentType: headers.contentType, data: body.subarray(headerEnd + HEADER_END.length, next) });
    if (parts.length > MAX_PARTS) return undefined;
    pos = next + 2;
  }
}
