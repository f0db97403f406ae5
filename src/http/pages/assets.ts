/**
 * The pages' one stylesheet, served at /pages/assets/pages.<hash>.css: the name changes with
 * the content, so browsers may keep it for a year (immutable). Kept in a module, not a file,
 * so that the compiled service carries it without a copy step. No external resource: system
 * fonts only. Colours: text #1b1b1b and links #0b4f8a on white (contrast above 7:1), focus
 * ring 3px #b3470d (above 4.5:1 against white).
 */
import { createHash } from 'node:crypto';

export const PAGES_CSS = `
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;font-size:100%;line-height:1.5;color:#1b1b1b;background:#fff}
body{margin:0}
a{color:#0b4f8a;text-decoration:underline}
a:hover{color:#073763}
:focus-visible{outline:3px solid #b3470d;outline-offset:2px}
.skip{position:absolute;left:-9999px;top:0;background:#fff;padding:.5rem 1rem;z-index:10}
.skip:focus{left:1rem;top:1rem}
.vh{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
header.site{border-bottom:1px solid #767676;background:#f4f6f8}
header.site .bar{max-width:64rem;margin:0 auto;padding:.75rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between}
header.site .brand{font-weight:700;color:#1b1b1b;text-decoration:none}
header.site .brand:hover{text-decoration:underline}
ul.langs{list-style:none;margin:0;padding:0;display:flex;gap:.75rem}
ul.langs [aria-current]{font-weight:700}
.who{display:flex;gap:.75rem;align-items:center;flex-wrap:wrap}
.who form{margin:0}
nav.pagenav ul{list-style:none;margin:0 auto;padding:.25rem 1rem .75rem;max-width:64rem;display:flex;gap:1rem}
main{display:block;max-width:64rem;margin:0 auto;padding:1.5rem 1rem 3rem}
main:focus{outline:none}
h1{font-size:1.75rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.25rem;margin:2rem 0 .75rem}
button,.button{font:inherit;font-weight:600;padding:.5rem 1rem;border:2px solid #0b4f8a;border-radius:4px;background:#0b4f8a;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button:hover,.button:hover{background:#073763;border-color:#073763;color:#fff}
button.secondary{background:#fff;color:#0b4f8a}
button.secondary:hover{background:#e8eef5;color:#073763}
table{border-collapse:collapse;width:100%;margin:1rem 0}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{text-align:left;padding:.5rem .75rem;border-bottom:1px solid #767676;vertical-align:top}
th{background:#f4f6f8}
.state{display:inline-block;padding:0 .5rem;border-radius:1rem;border:1px solid currentColor;font-size:.875rem}
.state-new{color:#0b4f8a;font-weight:700}
.state-opened{color:#2d5a27}
.state-expired{color:#595959}
.notice{border-left:4px solid #0b4f8a;background:#f4f6f8;padding:.75rem 1rem;margin:1rem 0}
.error{border-left-color:#a4262c}
ul.cards{list-style:none;padding:0;display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr))}
ul.cards li{border:1px solid #767676;border-radius:6px;padding:1rem}
ul.cards a{font-weight:700;font-size:1.125rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
.muted{color:#595959}
label{display:block;font-weight:600;margin-bottom:.25rem}
input,select{font:inherit;padding:.375rem .5rem;border:1px solid #595959;border-radius:4px;background:#fff;color:#1b1b1b;max-width:100%}
input[aria-invalid="true"]{border:2px solid #a4262c}
fieldset{border:1px solid #767676;border-radius:6px;padding:.5rem 1rem 1rem;margin:1rem 0}
legend{font-weight:700;padding:0 .25rem}
form.filters fieldset{display:grid;gap:0 1rem;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr))}
form.filters legend,form.filters .muted{grid-column:1/-1}
nav.pagenav [aria-current]{font-weight:700}
code.digest{word-break:break-all;font-size:.875rem}
`;

const hash = createHash('sha256').update(PAGES_CSS, 'utf8').digest('hex').slice(0, 16);

/** The stylesheet's address: its content hash in the name. */
export const PAGES_CSS_PATH = `/pages/assets/pages.${hash}.css`;
