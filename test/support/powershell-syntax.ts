import { join } from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { repoRoot } from './run-tool';

/**
 * PowerShell syntax without PowerShell: the tree-sitter grammar (tree-sitter-powershell's own
 * WebAssembly build) in web-tree-sitter. An ERROR or MISSING node anywhere is a syntax error.
 */
let parser: Promise<Parser> | null = null;

function powershellParser(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    const language = await Language.load(join(repoRoot, 'node_modules', 'tree-sitter-powershell', 'tree-sitter-powershell.wasm'));
    const p = new Parser();
    p.setLanguage(language);
    return p;
  })();
  return parser;
}

/** Each syntax error as `line:column: what`, in source order; empty for a script that parses. */
export async function syntaxErrors(script: string): Promise<string[]> {
  const text = script.replace(/^\ufeff/, '');
  const tree = (await powershellParser()).parse(text);
  if (!tree) throw new Error('the PowerShell parser returned no tree');
  const errors: string[] = [];
  const walk = (node: Node) => {
    const at = `${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
    if (node.isMissing) errors.push(`${at}: missing ${node.type}`);
    else if (node.isError) errors.push(`${at}: unexpected ${JSON.stringify(text.slice(node.startIndex, Math.min(node.endIndex, node.startIndex + 40)))}`);
    for (const child of node.children) walk(child);
  };
  walk(tree.rootNode);
  tree.delete();
  return errors;
}
