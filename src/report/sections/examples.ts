/**
 * A grid of example inputs: for each attack configuration, at its largest ε, the clean images of the first samples
 * and the adversarial image every attacked model got, each with the label it was given (green when correct).
 */
import { imageDataUrl } from '../png.js';
import { attackGroups } from '../attack-groups.js';
import { escapeXml } from '../charts/svg.js';
import type { Section } from '../section.js';
import type { ExperimentView } from '../view.js';

function cell(src: string, caption: string, correct: boolean | null, alt: string): string {
  const cls = correct === null ? '' : correct ? ' ok' : ' wrong';
  return `<figure class="example${cls}"><img src="${src}" alt="${escapeXml(alt)}"><figcaption>${escapeXml(caption)}</figcaption></figure>`;
}

export function examplesSection(view: ExperimentView): Section {
  const figures: string[] = [];
  for (const g of attackGroups(view)) {
    const dataset = g.entries[0]!.model.dataset;
    const data = view.dataResult(dataset);
    if (!data || data.examples.length === 0) continue;
    const eps = g.eps[g.eps.length - 1]!;
    const runs = g.entries.filter((e) => e.result.points.some((p) => p.eps === eps && p.examples.length > 0));
    if (runs.length === 0) continue;
    const name = (k: number): string => data.classNames[k] ?? String(k);
    const head = ['<th>clean</th>', ...runs.map((e) => `<th>${escapeXml(`${e.model.name} · ${e.threat}`)}</th>`)].join('');
    const body = data.examples
      .map((img, i) => {
        const y = data.labels[i]!;
        const cols = [`<td>${cell(imageDataUrl(img, data.shape), `label ${name(y)}`, null, `clean sample ${i}`)}</td>`];
        for (const e of runs) {
          const p = e.result.points.find((q) => q.eps === eps)!;
          const adv = p.examples[i];
          const pred = p.predictions[i]!;
          cols.push(adv ? `<td>${cell(imageDataUrl(adv, data.shape), `→ ${name(pred)}`, pred === y, `adversarial sample ${i} for ${e.model.name}`)}</td>` : '<td></td>');
        }
        return `<tr>${cols.join('')}</tr>`;
      })
      .join('');
    figures.push(
      `<div class="examples-grid"><div class="chart-title">${escapeXml(`${g.title}, ε=${eps}`)}</div><table class="examples"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`,
    );
  }
  return {
    id: 'examples',
    title: 'Example inputs',
    intro:
      'The first samples of the test slice, clean and as each attack left them for each model at the largest ε, with the label ' +
      'each model gave (green: still correct; red: fooled). Adversarial images are shown rounded to 8 bits; attacks measured the ' +
      'unrounded inputs.',
    figures,
    tables: [],
    ...(figures.length ? {} : { empty: 'no example images in the records (data.examples is 0, or no attack has finished)' }),
  };
}
