import { DOMParser, type Element as DomElement, onErrorStopParsing } from '@xmldom/xmldom';
import { printable } from '../printable.js';

/**
 * The one file that parses XML. ONVIF answers are small SOAP documents whose namespace
 * prefixes each vendor picks freely (`trt:`, `ns2:`, none), so elements are found by local
 * name; the rest of src/onvif sees only this plain tree, never the parser's DOM. Every text and
 * attribute value is what a device chose, so it leaves here printable (no terminal escapes).
 */
export interface XmlElement {
  /** Local name, without its prefix: `Uri` for `<tt:Uri>`. */
  readonly name: string;
  readonly namespace: string | null;
  /** Attributes by local name. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text (its text and CDATA children), trimmed. */
  readonly text: string;
}

/** Throws an Error saying what is wrong when `text` is not well-formed XML. */
export function parseXml(text: string): XmlElement {
  const document = new DOMParser({ onError: onErrorStopParsing }).parseFromString(text, 'text/xml');
  const root = document.documentElement;
  if (!root) throw new Error('no root element');
  return toTree(root);
}

function toTree(element: DomElement): XmlElement {
  const attributes: Record<string, string> = {};
  for (let i = 0; i < element.attributes.length; i++) {
    const attribute = element.attributes.item(i)!;
    attributes[attribute.localName ?? attribute.name] = printable(attribute.value);
  }
  const children: XmlElement[] = [];
  let text = '';
  for (let node = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === node.ELEMENT_NODE) children.push(toTree(node as DomElement));
    else if (node.nodeType === node.TEXT_NODE || node.nodeType === node.CDATA_SECTION_NODE)
      text += node.nodeValue ?? '';
  }
  return {
    name: element.localName ?? element.nodeName,
    namespace: element.namespaceURI,
    attributes,
    children,
    text: printable(text).trim(),
  };
}

/** The first element named `name` at or below `element`, depth first. */
export function findFirst(element: XmlElement, name: string): XmlElement | undefined {
  if (element.name === name) return element;
  for (const child of element.children) {
    const found = findFirst(child, name);
    if (found) return found;
  }
  return undefined;
}

/** Every element named `name` below `element` (not inside another match), in document order. */
export function findAll(element: XmlElement, name: string): XmlElement[] {
  return element.children.flatMap((child) => (child.name === name ? [child] : findAll(child, name)));
}

/** The text of the first `path[0]` … `path[n]` chain of descendants, or undefined. */
export function textAt(element: XmlElement, ...path: string[]): string | undefined {
  let at: XmlElement | undefined = element;
  for (const name of path) {
    at = at && findFirst(at, name);
  }
  return at?.text;
}

/** Escape text for an XML element or attribute value. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
