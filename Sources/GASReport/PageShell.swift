/// The document around every page: inline CSS, a strict Content-Security-Policy (nothing may load
/// from anywhere), a hook that shows script errors on the page, and click-to-sort tables.
enum PageShell {
    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
        <title>\(HTML.escape(title))</title>
        <script>\(errorHook)</script>
        <style>\(css)</style>
        </head>
        <body>
        \(body)
        <div id="console-errors" hidden></div>
        <script>\(sortScript)</script>
        </body>
        </html>

        """
    }

    /// Any script error or console.error becomes visible text in #console-errors, so a headless
    /// browser's --dump-dom shows it (the report test asserts the element stays empty).
    static let errorHook = """
    (function(){var pending=[];function show(m){var d=document.getElementById('console-errors');if(!d){pending.push(m);return;}d.hidden=false;d.textContent+=m+'\\n';}
    window.addEventListener('error',function(e){show('error: '+(e.message||(e.target&&e.target.outerHTML)||'resource failed'));},true);
    window.addEventListener('unhandledrejection',function(e){show('unhandled rejection: '+e.reason);});
    var original=console.error;console.error=function(){show('console.error: '+Array.prototype.join.call(arguments,' '));return original.apply(console,arguments);};
    document.addEventListener('securitypolicyviolation',function(e){show('blocked by CSP: '+e.blockedURI);});
    document.addEventListener('DOMContentLoaded',function(){var p=pending;pending=[];p.forEach(show);document.body.setAttribute('data-ready','1');});})();
    """

    /// Tables with class "sortable": click a header to sort by it (numbers by data-value when present).
    static let sortScript = """
    (function(){function key(cell){if(!cell)return '';var v=cell.getAttribute('data-sort')||cell.getAttribute('data-value');if(v!==null&&v!==''&&!isNaN(+v))return +v;var t=cell.textContent.trim();if(t==='—')return -Infinity;var x=parseFloat(t);return isNaN(x)?t.toLowerCase():x;}
    document.querySelectorAll('table.sortable').forEach(function(table){var heads=table.querySelectorAll('thead th');heads.forEach(function(th,i){th.setAttribute('tabindex','0');th.title='Sort by '+th.textContent.trim();
    function sort(){var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);var asc=th.getAttribute('aria-sort')!=='ascending';
    heads.forEach(function(h){h.removeAttribute('aria-sort');});th.setAttribute('aria-sort',asc?'ascending':'descending');
    rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);if(x===y)return 0;var r=(typeof x===typeof y)?(x<y?-1:1):(typeof x==='number'?-1:1);return asc?r:-r;});
    rows.forEach(function(r){body.appendChild(r);});}
    th.addEventListener('click',sort);th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort();}});});});
    document.body.setAttribute('data-sortable','1');})();
    """

    static let css = """
    :root{--ink:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7f9;--card:#fff;--accent:#0072B2;--good:#059669;--bad:#dc2626;--warn:#d97706}
    *{box-sizing:border-box}
    body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
    main{max-width:1240px;margin:0 auto;padding:0 24px 48px}
    header.top{background:#0f172a;color:#f8fafc;padding:22px 0 18px;margin-bottom:20px}
    header.top .inner{max-width:1240px;margin:0 auto;padding:0 24px}
    header.top h1{margin:0 0 4px;font-size:24px;font-weight:650;letter-spacing:-.01em}
    header.top .meta{color:#cbd5e1;font-size:13px}
    header.top .meta span{margin-right:18px;white-space:nowrap}
    header.top code{color:#e2e8f0;background:rgba(255,255,255,.08);padding:1px 5px;border-radius:4px}
    nav.toc{margin-top:12px;font-size:13px}
    nav.toc a{color:#93c5fd;text-decoration:none;margin-right:16px}
    nav.toc a:hover{text-decoration:underline}
    section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 22px 20px;margin:0 0 18px;box-shadow:0 1px 2px rgba(0,0,0,.03)}
    h2{font-size:18px;margin:0 0 4px;font-weight:650}
    h3{font-size:15px;margin:16px 0 6px;font-weight:600}
    p.lead{margin:0 0 14px;color:var(--muted)}
    .muted{color:var(--muted)}
    .cards{display:flex;flex-wrap:wrap;gap:14px}
    .card{flex:1 1 240px;border:1px solid var(--line);border-radius:8px;padding:12px 16px;background:#fbfcfd}
    .card .label{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
    .card .big{font-size:26px;font-weight:650;font-variant-numeric:tabular-nums}
    .card .name{font-size:16px;font-weight:600;word-break:break-all}
    table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
    th,td{padding:6px 9px;border-bottom:1px solid var(--line);text-align:left;vertical-align:middle}
    th{font-size:12px;font-weight:600;color:#374151;background:#f9fafb;white-space:nowrap}
    table.sortable th{cursor:pointer;user-select:none}
    table.sortable th[aria-sort=ascending]::after{content:" ▲";font-size:10px}
    table.sortable th[aria-sort=descending]::after{content:" ▼";font-size:10px}
    td.num,th.num{text-align:right;white-space:nowrap}
    td.na{color:#9ca3af;text-align:right}
    td.strong{font-weight:650}
    tr.winner td{background:#f0fdf4}
    .badge{display:inline-block;font-size:11px;font-weight:600;padding:1px 7px;border-radius:9px;background:#e5e7eb;color:#374151;margin-left:6px;vertical-align:1px}
    .badge.good{background:#d1fae5;color:#065f46}.badge.bad{background:#fee2e2;color:#991b1b}.badge.warn{background:#fef3c7;color:#92400e}
    .scroll{overflow-x:auto}
    .row{display:flex;flex-wrap:wrap;gap:22px;align-items:flex-start}
    .row>div{flex:0 1 auto;min-width:0}
    figure{margin:0}
    figcaption{font-size:12px;color:var(--muted);max-width:460px}
    ul.legend{list-style:none;padding:0;margin:6px 0 0;display:flex;flex-wrap:wrap;gap:6px 16px;font-size:13px}
    ul.legend .swatch{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:6px;vertical-align:-1px}
    svg text{font-family:inherit}
    svg .plot-bg{fill:#fcfcfd}svg .frame{fill:none;stroke:#d1d5db}
    svg .grid{stroke:#eef0f3}svg .diagonal{stroke:#9ca3af;stroke-dasharray:4 4}
    svg .tick{font-size:11px;fill:#6b7280}svg .axis-label{font-size:12px;fill:#374151}
    svg .note{font-size:11px;fill:#9ca3af}
    svg .row-label{font-size:12.5px;fill:#111827}svg .col-label{font-size:12px;fill:#111827}
    svg .col-note{font-size:11px;fill:#6b7280}svg tspan.muted{fill:#6b7280;font-size:11px}
    svg .cell{font-size:12.5px;font-weight:600}svg .cell.muted{fill:#9ca3af}
    svg .empty-cell{fill:#f3f4f6}
    svg .ci-axis{stroke:#d1d5db}
    svg.ci{vertical-align:middle}
    td.ci-cell,td.nowrap{white-space:nowrap}
    .chart-box{width:480px;max-width:100%}
    table.reasons code{font-size:12px}
    .matrices{display:flex;flex-wrap:wrap;gap:16px}
    .matrix{border:1px solid var(--line);border-radius:8px;padding:10px 14px}
    .matrix h3{margin:0 0 8px}
    .matrix table{width:auto}
    .matrix td.cm{width:104px;height:56px;text-align:center;font-size:15px;font-weight:650;border:2px solid #fff}
    .matrix td.cm small{display:block;font-size:11px;font-weight:500;opacity:.85}
    .matrix th{background:none;border:none;font-weight:500;color:var(--muted);text-align:center}
    .matrix th.side{text-align:right}
    code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
    pre{background:#0f172a;color:#e2e8f0;padding:12px 14px;border-radius:8px;overflow-x:auto;line-height:1.6}
    pre .c{color:#94a3b8}
    dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}
    dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;word-break:break-all}
    .empty{padding:14px;border:1px dashed #d1d5db;border-radius:8px;color:var(--muted);background:#fafafa}
    details{margin-top:10px}summary{cursor:pointer;color:#374151;font-weight:600}
    .glossary dt{font-weight:600;margin-top:6px}.glossary dd{margin:0 0 0 0;color:#374151}
    footer{color:var(--muted);font-size:12px;text-align:center;margin:24px 0}
    #console-errors{white-space:pre-wrap;background:#fee2e2;color:#991b1b;padding:10px;margin:12px 24px;border-radius:6px;font:12px ui-monospace,monospace}
    """
}
