// The API reference: fetch /openapi.json and list every operation with its request and response
// schemas (references resolved one level). Text only, never HTML from the schema.
"use strict";

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function resolve(schema, components) {
  if (schema && schema.$ref) return components[schema.$ref.split("/").pop()] || schema;
  return schema;
}

function schemaBlock(title, schema, components) {
  const box = el("details");
  box.append(el("summary", title), el("pre", JSON.stringify(resolve(schema, components), null, 2)));
  return box;
}

async function main() {
  const out = document.getElementById("operations");
  let spec;
  try {
    spec = await (await fetch("/openapi.json")).json();
  } catch (err) {
    document.getElementById("message").textContent = "could not load /openapi.json";
    return;
  }
  const components = (spec.components || {}).schemas || {};
  for (const [path, methods] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(methods)) {
      const section = el("section");
      section.append(el("h2", `${method.toUpperCase()} ${path}`));
      if (op.summary) section.append(el("p", op.summary));
      if (op.description) section.append(el("p", op.description, "muted"));
      if (op.security) section.append(el("p", "Needs Authorization: Bearer <key>", "muted"));
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
      if (body) section.append(schemaBlock("request body", body.schema, components));
      for (const [code, response] of Object.entries(op.responses || {})) {
        const content = response.content && response.content["application/json"];
        const title = `${code} ${response.description || ""}`;
        section.append(content ? schemaBlock(title, content.schema, components) : el("p", title));
      }
      out.append(section);
    }
  }
}

main();
