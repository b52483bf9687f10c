// @ts-check
/** Small DOM helpers shared by the panels of the explorer. */

const SVG = "http://www.w3.org/2000/svg";

/**
 * An HTML element with attributes and children (strings become text).
 * @param {string} tag
 * @param {Record<string, string>} [attributes]
 * @param {Array<Node|string>} [children]
 * @returns {HTMLElement}
 */
export function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * An SVG element with attributes.
 * @param {string} tag
 * @param {Record<string, string|number>} [attributes]
 * @returns {SVGElement}
 */
export function svgElement(tag, attributes = {}) {
  const node = /** @type {SVGElement} */ (document.createElementNS(SVG, tag));
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/**
 * An SVG text element.
 * @param {number} x
 * @param {number} y
 * @param {string} anchor "start", "middle" or "end"
 * @param {string} text
 * @param {string} [className]
 * @returns {SVGElement}
 */
export function svgText(x, y, anchor, text, className = "") {
  const node = svgElement("text", { x, y, "text-anchor": anchor });
  if (className) node.setAttribute("class", className);
  node.textContent = text;
  return node;
}

/**
 * Mark a control so that the notebook's keyboard shortcuts (arrow keys move between cells,
 * Enter edits a cell) leave its keys alone. Notebook 7 checks shortcuts before the key
 * event reaches the control and skips elements marked data-lm-suppress-shortcuts.
 * @template {HTMLElement} T
 * @param {T} control
 * @returns {T}
 */
export function ownKeys(control) {
  control.setAttribute("data-lm-suppress-shortcuts", "true");
  return control;
}

/**
 * A labelled range input with an <output> beside it (one grid row).
 * @param {string} label
 * @param {string} className
 * @returns {{input: HTMLInputElement, output: HTMLOutputElement, row: HTMLElement}}
 */
export function slider(label, className) {
  const input = /** @type {HTMLInputElement} */ (
    ownKeys(element("input", { type: "range", class: className, min: "0", max: "0", step: "1", value: "0" }))
  );
  const output = /** @type {HTMLOutputElement} */ (element("output", { class: `${className}-value` }));
  const row = element("label", {}, [element("span", {}, [label]), input]);
  return { input, output, row };
}
