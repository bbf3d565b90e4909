/**
 * A small XML well-formedness check for SVG output (no parser among the
 * dependencies): one root element, every tag closed in order, attributes
 * quoted and unique, entities known. Returns the problem, or null.
 */
export function xmlProblem(xml: string): string | null {
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const name = /^[A-Za-z_:][\w.:-]*/;
  const text = (s: string, at: number) => {
    const bad = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.exec(s);
    return bad === null ? null : `a bare & at ${at + bad.index}`;
  };
  while (i < xml.length) {
    const open = xml.indexOf("<", i);
    const chunk = xml.slice(i, open === -1 ? xml.length : open);
    if (stack.length === 0 && chunk.trim() !== "") return `text outside the root at ${i}`;
    const problem = text(chunk, i);
    if (problem !== null) return problem;
    if (open === -1) break;
    if (xml.startsWith("<?", open)) {
      const end = xml.indexOf("?>", open);
      if (end === -1) return `unclosed <? at ${open}`;
      i = end + 2;
      continue;
    }
    if (xml.startsWith("<!--", open)) {
      const end = xml.indexOf("-->", open);
      if (end === -1) return `unclosed comment at ${open}`;
      i = end + 3;
      continue;
    }
    const close = xml.indexOf(">", open);
    if (close === -1) return `unclosed tag at ${open}`;
    const tag = xml.slice(open + 1, close);
    if (tag.startsWith("/")) {
      const closing = tag.slice(1).trim();
      const expected = stack.pop();
      if (closing !== expected) return `</${closing}> at ${open} closes <${expected ?? "nothing"}>`;
      i = close + 1;
      continue;
    }
    const selfClosing = tag.endsWith("/");
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const tagName = name.exec(body)?.[0];
    if (tagName === undefined) return `bad tag name at ${open}`;
    if (stack.length === 0) roots++;
    if (roots > 1) return `a second root element at ${open}`;
    let rest = body.slice(tagName.length);
    const seen = new Set<string>();
    const attribute = /^\s+([A-Za-z_:][\w.:-]*)\s*=\s*("[^"<]*"|'[^'<]*')/;
    for (let match = attribute.exec(rest); match !== null; match = attribute.exec(rest)) {
      if (seen.has(match[1]!)) return `attribute ${match[1]} twice in <${tagName}> at ${open}`;
      seen.add(match[1]!);
      const problem = text(match[2]!, open);
      if (problem !== null) return problem;
      rest = rest.slice(match[0].length);
    }
    if (rest.trim() !== "") return `bad attributes in <${tagName}> at ${open}: ${rest.slice(0, 40)}`;
    if (!selfClosing) stack.push(tagName);
    i = close + 1;
  }
  if (stack.length > 0) return `unclosed <${stack.at(-1)}>`;
  return roots === 1 ? null : "no root element";
}
