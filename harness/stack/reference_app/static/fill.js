// New elements come from the page's own <template>s: the markup, its test ids and its wording
// are the UI's (templates/ or templates_second/), the behaviour in these scripts is shared.
// fromTemplate('tpl-x', values): a copy of the template's first element, where each {name} in
// an attribute or a text is values[name] (set as text, never parsed as HTML).
function fromTemplate(id, values) {
  const node = document.getElementById(id).content.firstElementChild.cloneNode(true);
  const fill = (text) => text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
  for (const el of [node, ...node.querySelectorAll('*')]) {
    for (const attr of Array.from(el.attributes)) attr.value = fill(attr.value);
  }
  const texts = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
  while (texts.nextNode()) texts.currentNode.nodeValue = fill(texts.currentNode.nodeValue);
  return node;
}
