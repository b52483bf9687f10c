// @ts-check
/** The gallery: every unit's optimal stimulus, grouped (networks, layers) with dividers. */
import { element, ownKeys } from "./dom.js";
import { paint } from "./paint.js";
import { absMax } from "./pixels.js";

/**
 * The groups of a list of units: the model's `groups` (name, start, stop), or one
 * unnamed group of all units.
 * @param {Array<{name: string, start: number, stop: number}>} groups
 * @param {number} count number of units
 * @returns {Array<{name: string, start: number, stop: number}>}
 */
export function unitGroups(groups, count) {
  const valid = (groups ?? []).filter((g) => g.start >= 0 && g.stop <= count && g.start < g.stop);
  return valid.length > 0 ? valid : [{ name: "", start: 0, stop: count }];
}

/**
 * The name of the group that holds a unit, or "".
 * @param {Array<{name: string, start: number, stop: number}>} groups
 * @param {number} unit
 * @returns {string}
 */
export function groupOf(groups, unit) {
  return groups.find((g) => g.start <= unit && unit < g.stop)?.name ?? "";
}

/**
 * Make the gallery in `container`.
 * @param {HTMLElement} container
 * @param {(unit: number) => void} choose called with a unit when its tile is clicked
 * @param {(record: object) => object} decode memoized record decoder
 * @returns {(units: Array<object|null>, groups: Array<object>, selected: number) => void}
 *   updates the tiles (repaints only records that changed)
 */
export function makeGallery(container, choose, decode) {
  /** @type {HTMLElement[]} */
  let tiles = [];
  /** @type {Array<object|null|undefined>} */
  let painted = [];
  let layoutKey = "";

  function build(units, groups) {
    tiles = [];
    painted = [];
    container.replaceChildren();
    for (const group of groups) {
      const section = element("div", { class: "tcnn-gallery-group", role: "group", "aria-label": group.name || "Units" });
      if (group.name) section.append(element("div", { class: "tcnn-group-name" }, [group.name]));
      const row = element("div", { class: "tcnn-tiles" });
      for (let unit = group.start; unit < group.stop; unit++) {
        const tile = ownKeys(element("button", { type: "button", class: "tcnn-tile", "data-unit": String(unit) }, [
          element("canvas", { width: "1", height: "1", "aria-hidden": "true" }),
          element("span", {}, [String(unit)]),
        ]));
        tile.addEventListener("click", () => choose(unit));
        tiles[unit] = tile;
        row.append(tile);
      }
      section.append(row);
      container.append(section);
    }
  }

  return (units, groups, selected) => {
    const key = `${units.length}|${groups.map((g) => `${g.name}:${g.start}-${g.stop}`).join(",")}`;
    if (key !== layoutKey) {
      build(units, groups);
      layoutKey = key;
    }
    units.forEach((record, unit) => {
      const tile = tiles[unit];
      tile.setAttribute("aria-pressed", String(unit === selected));
      if (painted[unit] === record) return;
      painted[unit] = record;
      const label = (text) => {
        tile.setAttribute("aria-label", text);
        tile.title = text;
      };
      if (record == null) return label(`Unit ${unit}: not analyzed yet (click to analyze)`);
      if (record.error) return label(`Unit ${unit}: analysis failed`);
      try {
        const data = decode(record);
        paint(/** @type {HTMLCanvasElement} */ (tile.firstChild), data.stimulus, absMax(data.stimulus), data);
        label(`Unit ${unit}${data.name ? `: ${data.name}` : ""}`);
      } catch (error) {
        label(`Unit ${unit}: unreadable data (${error.message})`);
      }
    });
  };
}
