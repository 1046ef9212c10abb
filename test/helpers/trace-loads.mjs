// Loaded with `node --import`: writes `loaded <url>` on stderr for every module the process
// loads, so a test can tell which parts of the CLI a command pulls in.
import { register } from 'node:module';

const hooks = `
import { writeSync } from 'node:fs';
export async function load(url, context, next) {
  writeSync(2, 'loaded ' + url + '\\n');
  return next(url, context);
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
