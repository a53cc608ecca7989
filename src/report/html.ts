/**
 * The report page: one self-contained HTML file (inline CSS, inline SVG charts, images as data URLs, each table
 * downloadable as CSV from a data URL), no script and nothing fetched, so it opens offline in any browser.
 */
import { escapeXml } from './charts/svg.js';
import type { Section } from './section.js';
import { formatCell, tableToCsv, type Table } from './table.js';

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;margin:0;background:#fafafa}
header,main{max-width:1180px;margin:0 auto;padding:0 20px}
header{padding-top:18px}
h1{font-size:24px;margin:8px 0}
h2{font-size:19px;margin:30px 0 6px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
p.intro{max-width:900px;color:#333}
.meta{color:#555;font-size:13px}
nav a{margin-right:12px;font-size:13px}
.figures{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
svg.chart{background:#fff;border:1px solid #e3e3e3}
svg .chart-title,.chart-title{font-weight:600;font-size:13px}
svg .tick{font-size:11px;fill:#444}
svg .label,svg .legend{font-size:12px;fill:#222}
svg .grid{stroke:#eee}
svg .axis{stroke:#888}
svg .reference{stroke:#c00;stroke-dasharray:4 3}
svg .cell-value{font-size:11px}
.table-wrap{overflow-x:auto;margin:6px 0 14px}
table.data{border-collapse:collapse;background:#fff;font-size:12.5px}
table.data th,table.data td{border:1px solid #e0e0e0;padding:3px 7px;text-align:right;vertical-align:top}
table.data th{background:#f2f2f2;text-align:center}
table.data td.text{text-align:left;white-space:nowrap}
table.data td.text .detail{white-space:normal}
.note{font-size:12px;color:#555;max-width:900px}
.csv{font-size:12px;margin-left:8px}
.badge{display:inline-block;border-radius:3px;padding:0 5px;font-size:11px;font-weight:600}
.badge.flag{background:#fde2e1;color:#a40000}
.badge.pass{background:#dff3e3;color:#11632a}
.badge.not-measured{background:#eee;color:#666}
.detail{font-size:11px;color:#555;text-align:left;max-width:220px}
.empty{color:#777;font-style:italic}
table.examples{border-collapse:collapse}
table.examples th{font-size:11px;font-weight:600;max-width:110px;padding:2px 4px}
figure.example{margin:2px;text-align:center}
figure.example img{width:56px;height:56px;image-rendering:pixelated;border:2px solid #ccc}
figure.example.ok img{border-color:#2e9e4f}
figure.example.wrong img{border-color:#d0312d}
figure.example figcaption{font-size:11px}
footer{max-width:1180px;margin:30px auto;padding:0 20px;color:#777;font-size:12px}
`;

function renderTable(t: Table): string {
  const cols = t.columns.filter((c) => !c.csvOnly);
  const csv = `data:text/csv;charset=utf-8,${encodeURIComponent(tableToCsv(t))}`;
  const head = cols.map((c) => `<th>${escapeXml(c.label)}</th>`).join('');
  const body = t.rows
    .map((row) => {
      const cells = cols.map((c) => {
        const v = row[c.key] ?? null;
        const detail = c.detailKey && row[c.detailKey] ? `<div class="detail">${escapeXml(String(row[c.detailKey]))}</div>` : '';
        if (c.format === 'status') return `<td class="text"><span class="badge ${escapeXml(String(v))}">${escapeXml(formatCell(v))}</span>${detail}</td>`;
        const cls = typeof v === 'number' ? '' : ' class="text"';
        return `<td${cls}>${escapeXml(formatCell(v, c.format))}${detail}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('');
  return (
    `<h3 id="table-${escapeXml(t.id)}">${escapeXml(t.title)}<a class="csv" download="${escapeXml(t.id)}.csv" href="${csv}">CSV</a></h3>` +
    (t.note ? `<p class="note">${escapeXml(t.note)}</p>` : '') +
    (t.rows.length ? `<div class="table-wrap"><table class="data" data-table="${escapeXml(t.id)}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>` : '<p class="empty">no rows</p>')
  );
}

function renderSection(s: Section): string {
  const figures = s.figures.length ? `<div class="figures">${s.figures.join('')}</div>` : '';
  const tables = s.empty && s.tables.every((t) => t.rows.length === 0) ? '' : s.tables.map(renderTable).join('');
  return (
    `<section id="${escapeXml(s.id)}"><h2>${escapeXml(s.title)}</h2><p class="intro">${escapeXml(s.intro)}</p>` +
    (s.empty ? `<p class="empty">${escapeXml(s.empty)}</p>` : '') +
    figures +
    tables +
    '</section>'
  );
}

export interface PageHeader {
  readonly title: string;
  /** Plain-text lines under the title. */
  readonly lines: readonly string[];
  readonly footer: string;
}

export function renderPage(header: PageHeader, sections: readonly Section[]): string {
  const nav = sections.map((s) => `<a href="#${escapeXml(s.id)}">${escapeXml(s.title)}</a>`).join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeXml(header.title)}</title><style>${CSS}</style></head>
<body><header><h1>${escapeXml(header.title)}</h1>${header.lines.map((l) => `<div class="meta">${escapeXml(l)}</div>`).join('')}<nav>${nav}</nav></header>
<main>${sections.map(renderSection).join('\n')}</main>
<footer>${escapeXml(header.footer)}</footer></body></html>
`;
}
