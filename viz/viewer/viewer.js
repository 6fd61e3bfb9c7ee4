// The city-twin run viewer: terrain, buildings and the run's layers in WebGL 2, no library, no network.
// The data (viz/viewer/payload.py) sits in the page as JSON with deflated base64 arrays.
// window.viewer exposes the state and two helpers for scripts: project([x, y, z]) gives the page
// position (CSS pixels) of a point in local metres, and ready, a promise of the first drawn frame.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("viewer-data").textContent);
  const NO_CLASS = 255;
  const PALETTE = 16;
  const NEUTRAL = [0.83, 0.83, 0.83];
  const SELECTED = [0.1, 0.85, 1.0];
  const FOV = 35 * Math.PI / 180;
  const ORTHO_FROM = 89;  // degrees above the horizon from which the view is a map (orthographic)
  const canvas = document.getElementById("view");
  const $ = (id) => document.getElementById(id);
  const api = { state: null, project: null, ready: null };
  window.viewer = api;

  // ---- data ------------------------------------------------------------------------------------
  const TYPES = { uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, int32: Int32Array, float32: Float32Array };

  async function unpack(p) {
    const text = atob(p.data);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    const buffer = await new Response(stream).arrayBuffer();
    if (p.dtype === "json") return JSON.parse(new TextDecoder().decode(buffer));
    const array = new TYPES[p.dtype](buffer);
    if (p.delta) for (let i = 1; i < array.length; i++) array[i] += array[i - 1];  // typed arrays wrap
    return array;
  }

  function hexColour(hex) {
    return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  }

  // ---- matrices (column-major, as WebGL reads them) ---------------------------------------------
  function multiply(a, b) {
    const out = new Float32Array(16);
    for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[k * 4 + r] * b[c * 4 + k];
      out[c * 4 + r] = s;
    }
    return out;
  }
  function perspective(fovy, aspect, near, far) {
    const f = 1 / Math.tan(fovy / 2), nf = 1 / (near - far);
    return new Float32Array([f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) * nf, -1, 0, 0, 2 * far * near * nf, 0]);
  }
  function orthographic(halfWidth, halfHeight, near, far) {
    return new Float32Array([1 / halfWidth, 0, 0, 0, 0, 1 / halfHeight, 0, 0, 0, 0, -2 / (far - near), 0,
      0, 0, -(far + near) / (far - near), 1]);
  }
  const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const unit = (a) => { const n = Math.hypot(a[0], a[1], a[2]) || 1; return [a[0] / n, a[1] / n, a[2] / n]; };
  function lookAt(eye, target, up) {
    const z = unit(sub(eye, target)), x = unit(cross(up, z)), y = cross(z, x);
    return new Float32Array([x[0], y[0], z[0], 0, x[1], y[1], z[1], 0, x[2], y[2], z[2], 0,
      -dot(x, eye), -dot(y, eye), -dot(z, eye), 1]);
  }

  // ---- WebGL -----------------------------------------------------------------------------------
  const gl = canvas.getContext("webgl2", { antialias: true });

  function program(vertex, fragment) {
    const p = gl.createProgram();
    for (const [type, source] of [[gl.VERTEX_SHADER, vertex], [gl.FRAGMENT_SHADER, fragment]]) {
      const s = gl.createShader(type);
      gl.shaderSource(s, source);
      gl.compileShader(s);
      if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
      gl.attachShader(p, s);
    }
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(p));
    const uniforms = {};
    for (let i = 0; i < gl.getProgramParameter(p, gl.ACTIVE_UNIFORMS); i++) {
      const name = gl.getActiveUniform(p, i).name.replace(/\[0\]$/, "");
      uniforms[name] = gl.getUniformLocation(p, name);
    }
    return { p, u: uniforms };
  }

  const HEADER = "#version 300 es\nprecision highp float;\nprecision highp int;\n";
  const PICK_OUT = `
    vec4 encode(int id, float kind) {
      return vec4(float(id & 255), float((id >> 8) & 255), float((id >> 16) & 255), kind) / 255.0;
    }`;
  const TERRAIN_VS = HEADER + `
    uniform highp sampler2D uHeight; uniform mat4 uMatrix; uniform float uDx, uExag; uniform int uNx, uNy;
    out vec3 vPos; out vec3 vNormal;
    float h(int c, int r) { return texelFetch(uHeight, ivec2(clamp(c, 0, uNx - 1), clamp(r, 0, uNy - 1)), 0).r; }
    void main() {
      int c = gl_VertexID % uNx, r = gl_VertexID / uNx;
      vec3 p = vec3((float(c) + 0.5) * uDx, (float(uNy - r) - 0.5) * uDx, h(c, r) * uExag);
      float gx = (h(c + 1, r) - h(c - 1, r)) * uExag / (2.0 * uDx);
      float gy = (h(c, r - 1) - h(c, r + 1)) * uExag / (2.0 * uDx);
      vNormal = vec3(-gx, -gy, 1.0); vPos = p; gl_Position = uMatrix * vec4(p, 1.0);
    }`;
  const TERRAIN_FS = HEADER + PICK_OUT + `
    uniform highp usampler2D uClass, uLand; uniform vec3 uPalette[${PALETTE}], uLandRgb[8], uLight;
    uniform float uDx; uniform int uNx, uNy, uPick;
    in vec3 vPos; in vec3 vNormal; out vec4 colour;
    void main() {
      ivec2 cell = ivec2(clamp(int(floor(vPos.x / uDx)), 0, uNx - 1), clamp(uNy - 1 - int(floor(vPos.y / uDx)), 0, uNy - 1));
      if (uPick == 1) { colour = encode(cell.y * uNx + cell.x + 1, 128.0); return; }
      uint k = texelFetch(uClass, cell, 0).r;
      vec3 base = k == ${NO_CLASS}u ? uLandRgb[min(texelFetch(uLand, cell, 0).r, 7u)] : uPalette[min(k, ${PALETTE - 1}u)];
      colour = vec4(base * (0.55 + 0.45 * max(dot(normalize(vNormal), uLight), 0.0)), 1.0);
    }`;
  const BUILDING_VS = HEADER + `
    in vec3 aPos; in uint aOwner; uniform mat4 uMatrix; uniform float uExag;
    uniform highp sampler2D uColours; uniform int uWidth;
    out vec3 vPos; out vec3 vColour; flat out int vOwner;
    void main() {
      int i = int(aOwner);
      vec3 p = vec3(aPos.xy, aPos.z * uExag);
      vPos = p; vOwner = i; vColour = texelFetch(uColours, ivec2(i % uWidth, i / uWidth), 0).rgb;
      gl_Position = uMatrix * vec4(p, 1.0);
    }`;
  const BUILDING_FS = HEADER + PICK_OUT + `
    uniform vec3 uLight, uSelectedColour; uniform int uPick, uSelected;
    in vec3 vPos; in vec3 vColour; flat in int vOwner; out vec4 colour;
    void main() {
      if (uPick == 1) { colour = encode(vOwner + 1, 255.0); return; }
      vec3 n = normalize(cross(dFdx(vPos), dFdy(vPos)));
      vec3 base = vOwner == uSelected ? uSelectedColour : vColour;
      colour = vec4(base * (0.5 + 0.5 * max(dot(n, uLight), 0.0)), 1.0);
    }`;

  function texture(internal, format, type, width, height, pixels, filter) {
    const t = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, t);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texImage2D(gl.TEXTURE_2D, 0, internal, width, height, 0, format, type, pixels);
    for (const p of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER]) gl.texParameteri(gl.TEXTURE_2D, p, filter || gl.NEAREST);
    for (const p of [gl.TEXTURE_WRAP_S, gl.TEXTURE_WRAP_T]) gl.texParameteri(gl.TEXTURE_2D, p, gl.CLAMP_TO_EDGE);
    return t;
  }

  // ---- scene -----------------------------------------------------------------------------------
  const scene = {};

  async function build() {
    const t = data.terrain, nx = t.nx, ny = t.ny, largest = gl.getParameter(gl.MAX_TEXTURE_SIZE);
    if (Math.max(nx, ny) > largest) {
      throw new Error(`the grid (${nx} x ${ny} cells) is larger than this browser's WebGL textures (${largest})`);
    }
    const [q, land, inside] = await Promise.all([unpack(t.heights), unpack(t.landcover), unpack(t.inside)]);
    data.table = await unpack(data.table);
    const heights = new Float32Array(nx * ny);
    for (let i = 0; i < heights.length; i++) heights[i] = t.zmin + q[i] * t.zstep;
    scene.heights = heights;
    scene.inside = inside;
    const all = new Uint32Array(Math.max(0, (nx - 1) * (ny - 1) * 6));
    let used = 0;
    for (let r = 0; r + 1 < ny; r++) for (let c = 0; c + 1 < nx; c++) {
      const nw = r * nx + c, ne = nw + 1, sw = nw + nx, se = sw + 1;
      if (inside[nw] && inside[ne] && inside[sw] && inside[se]) { all.set([sw, se, ne, sw, ne, nw], used); used += 6; }
    }
    const quads = all.subarray(0, used);
    scene.terrain = {
      prog: program(TERRAIN_VS, TERRAIN_FS), vao: gl.createVertexArray(), count: quads.length,
      height: texture(gl.R32F, gl.RED, gl.FLOAT, nx, ny, heights),
      land: texture(gl.R8UI, gl.RED_INTEGER, gl.UNSIGNED_BYTE, nx, ny, land),
      cls: texture(gl.R8UI, gl.RED_INTEGER, gl.UNSIGNED_BYTE, nx, ny, new Uint8Array(nx * ny).fill(NO_CLASS)),
    };
    gl.bindVertexArray(scene.terrain.vao);
    const index = gl.createBuffer();
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, index);
    gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, quads, gl.STATIC_DRAW);
    gl.bindVertexArray(null);

    const b = data.buildings;
    if (b.count) {
      const [x, y, z, bq, owner] = await Promise.all([b.x, b.y, b.z, b.quads, b.owner].map(unpack));
      const pos = new Float32Array(x.length * 3);
      for (let i = 0; i < x.length; i++) { pos[3 * i] = x[i] * t.dx; pos[3 * i + 1] = y[i] * t.dx; pos[3 * i + 2] = z[i]; }
      const tri = new Uint32Array(bq.length / 4 * 6);
      for (let k = 0, j = 0; k < bq.length; k += 4) {
        tri[j++] = bq[k]; tri[j++] = bq[k + 1]; tri[j++] = bq[k + 2];
        tri[j++] = bq[k]; tri[j++] = bq[k + 2]; tri[j++] = bq[k + 3];
      }
      const width = Math.min(b.count, 2048), rows = Math.ceil(b.count / width);
      const prog = program(BUILDING_VS, BUILDING_FS);
      const vao = gl.createVertexArray();
      gl.bindVertexArray(vao);
      const attribute = (name, array, size, integer) => {
        const buffer = gl.createBuffer(), loc = gl.getAttribLocation(prog.p, name);
        gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
        gl.bufferData(gl.ARRAY_BUFFER, array, gl.STATIC_DRAW);
        gl.enableVertexAttribArray(loc);
        if (integer) gl.vertexAttribIPointer(loc, size, gl.UNSIGNED_INT, 0, 0);
        else gl.vertexAttribPointer(loc, size, gl.FLOAT, false, 0, 0);
      };
      attribute("aPos", pos, 3, false);
      attribute("aOwner", owner, 1, true);
      const index = gl.createBuffer();
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, index);
      gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, tri, gl.STATIC_DRAW);
      gl.bindVertexArray(null);
      scene.buildings = {
        prog, vao, count: tri.length, width, rows, pos, owner,
        colours: texture(gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, width, rows, new Uint8Array(width * rows * 4)),
      };
    }
    scene.layers = [];
    for (const layer of data.layers) {
      scene.layers.push({
        ...layer,
        cells: await Promise.all(layer.cells.map(unpack)),
        classes: Array.isArray(layer.building_classes) ? await Promise.all(layer.building_classes.map(unpack))
          : layer.building_classes ? await unpack(layer.building_classes) : null,
      });
    }
    scene.pick = { fb: gl.createFramebuffer(), colour: gl.createRenderbuffer(), depth: gl.createRenderbuffer(), w: 0, h: 0 };
  }

  // ---- camera ----------------------------------------------------------------------------------
  const extent = () => [data.terrain.nx * data.terrain.dx, data.terrain.ny * data.terrain.dx];
  const camera = { target: [0, 0, 0], bearing: 225, elevation: 35, distance: 1 };

  // The camera at (bearing, elevation), as close as it can be with the whole terrain box in the
  // frustum: for a corner v (from the target), its depth d + v.forward (d in an orthographic view,
  // which shows the width d tan(fov/2) at every depth) must reach |v.right| / (tan(fov/2) aspect)
  // and |v.up| / tan(fov/2). The target then moves so that the box's picture is centred (the near
  // half of an oblique view looks larger than the far half), and the distance is fitted again.
  function fitted(bearing, elevation) {
    const [w, h] = extent(), t = data.terrain, k = data.exaggeration;
    const b = bearing * Math.PI / 180, e = elevation * Math.PI / 180;
    const forward = [-Math.sin(b) * Math.cos(e), -Math.cos(b) * Math.cos(e), -Math.sin(e)];
    const right = unit(cross(forward, [0, 0, 1])), up = cross(right, forward);
    const half = Math.tan(FOV / 2), aspect = canvas.clientWidth / Math.max(canvas.clientHeight, 1);
    const corners = [];
    for (const x of [0, w]) for (const y of [0, h]) for (const z of [t.zmin * k, t.zmax * k]) corners.push([x, y, z]);
    const ortho = elevation >= ORTHO_FROM;
    let target = [w / 2, h / 2, (t.zmin + t.zmax) / 2 * k], distance = 0;
    for (let pass = 0; pass < 4; pass++) {
      distance = 0;
      for (const c of corners) {
        const v = sub(c, target), nearer = ortho ? 0 : dot(v, forward);
        distance = Math.max(distance, Math.abs(dot(v, right)) / (half * aspect) - nearer, Math.abs(dot(v, up)) / half - nearer);
      }
      const screen = corners.map((c) => {
        const v = sub(c, target), depth = ortho ? distance : distance + dot(v, forward);
        return [dot(v, right) / (depth * half * aspect), dot(v, up) / (depth * half)];
      });
      const mid = [0, 1].map((i) => (Math.min(...screen.map((s) => s[i])) + Math.max(...screen.map((s) => s[i]))) / 2);
      const shift = [mid[0] * distance * half * aspect, mid[1] * distance * half];
      target = target.map((v, i) => v + right[i] * shift[0] + up[i] * shift[1]);
    }
    return { target, bearing, elevation, distance: distance * 1.08 };
  }

  function eye() {
    const b = camera.bearing * Math.PI / 180, e = camera.elevation * Math.PI / 180, d = camera.distance;
    return [camera.target[0] + d * Math.sin(b) * Math.cos(e), camera.target[1] + d * Math.cos(b) * Math.cos(e),
      camera.target[2] + d * Math.sin(e)];
  }

  function matrix() {
    const aspect = canvas.clientWidth / Math.max(canvas.clientHeight, 1);
    const d = camera.distance, span = Math.max(...extent());
    const near = Math.max(d / 50, 0.5), far = d + 4 * span, half = d * Math.tan(FOV / 2);
    const proj = camera.elevation >= ORTHO_FROM ? orthographic(half * aspect, half, near, far) : perspective(FOV, aspect, near, far);
    return multiply(proj, lookAt(eye(), camera.target, [0, 0, 1]));
  }

  api.project = function (point) {
    const m = matrix(), p = [point[0], point[1], point[2] * data.exaggeration, 1];
    const clip = [0, 1, 2, 3].map((r) => m[r] * p[0] + m[4 + r] * p[1] + m[8 + r] * p[2] + m[12 + r] * p[3]);
    const rect = canvas.getBoundingClientRect();
    return [rect.left + (clip[0] / clip[3] + 1) / 2 * rect.width, rect.top + (1 - clip[1] / clip[3]) / 2 * rect.height];
  };

  // ---- state and drawing -----------------------------------------------------------------------
  const state = { layer: 0, time: 0, step: 0, view: data.view, selected: -1 };
  api.state = state;

  // The index of the class map shown: the return period's for a layer of design events, else the snapshot's.
  function shown(layer) {
    return layer.steps.length ? state.step : state.time;
  }
  let pending = false;

  function requestDraw() {
    if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; draw(false); }); }
  }

  function resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr)), h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  }

  const LIGHT = unit([-0.45, 0.55, 0.75]);

  function draw(pick) {
    resize();
    const m = matrix(), t = data.terrain;
    gl.viewport(0, 0, canvas.width, canvas.height);
    gl.enable(gl.DEPTH_TEST);
    if (pick) gl.clearColor(0, 0, 0, 0); else gl.clearColor(0.96, 0.95, 0.93, 1);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    const tr = scene.terrain, u = tr.prog.u, layer = scene.layers[state.layer];
    gl.useProgram(tr.prog.p);
    gl.uniformMatrix4fv(u.uMatrix, false, m);
    gl.uniform1f(u.uDx, t.dx); gl.uniform1f(u.uExag, data.exaggeration);
    gl.uniform1i(u.uNx, t.nx); gl.uniform1i(u.uNy, t.ny); gl.uniform1i(u.uPick, pick ? 1 : 0);
    gl.uniform3fv(u.uLight, LIGHT);
    const palette = new Float32Array(PALETTE * 3);
    (layer.ground ? layer.ground.entries : []).forEach((e, k) => palette.set(hexColour(e.colour), 3 * k));
    gl.uniform3fv(u.uPalette, palette);
    gl.uniform3fv(u.uLandRgb, new Float32Array(t.landcover_rgb.flat().map((v) => v / 255)));
    [[tr.height, "uHeight"], [tr.cls, "uClass"], [tr.land, "uLand"]].forEach(([tex, name], i) => {
      gl.activeTexture(gl.TEXTURE0 + i); gl.bindTexture(gl.TEXTURE_2D, tex); gl.uniform1i(u[name], i);
    });
    gl.bindVertexArray(tr.vao);
    gl.drawElements(gl.TRIANGLES, tr.count, gl.UNSIGNED_INT, 0);
    const b = scene.buildings;
    if (b) {
      const v = b.prog.u;
      gl.useProgram(b.prog.p);
      gl.uniformMatrix4fv(v.uMatrix, false, m);
      gl.uniform1f(v.uExag, data.exaggeration); gl.uniform1i(v.uWidth, b.width);
      gl.uniform1i(v.uPick, pick ? 1 : 0); gl.uniform1i(v.uSelected, state.selected);
      gl.uniform3fv(v.uLight, LIGHT); gl.uniform3fv(v.uSelectedColour, SELECTED);
      gl.activeTexture(gl.TEXTURE0); gl.bindTexture(gl.TEXTURE_2D, b.colours); gl.uniform1i(v.uColours, 0);
      gl.bindVertexArray(b.vao);
      gl.drawElements(gl.TRIANGLES, b.count, gl.UNSIGNED_INT, 0);
    }
    gl.bindVertexArray(null);
  }

  function upload() {
    const layer = scene.layers[state.layer], t = data.terrain, k = shown(layer);
    const cells = layer.cells.length ? layer.cells[Math.min(k, layer.cells.length - 1)]
      : new Uint8Array(t.nx * t.ny).fill(NO_CLASS);
    const classes = Array.isArray(layer.classes) ? layer.classes[k] : layer.classes;
    gl.bindTexture(gl.TEXTURE_2D, scene.terrain.cls);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, t.nx, t.ny, gl.RED_INTEGER, gl.UNSIGNED_BYTE, cells);
    const b = scene.buildings;
    if (b) {
      const rgba = new Uint8Array(b.width * b.rows * 4);
      const colours = layer.buildings ? layer.buildings.entries.map((e) => hexColour(e.colour)) : [];
      for (let i = 0; i < data.buildings.count; i++) {
        const c = classes ? classes[i] : NO_CLASS;
        const colour = c === NO_CLASS || c >= colours.length ? NEUTRAL : colours[c];
        rgba.set([colour[0] * 255, colour[1] * 255, colour[2] * 255, 255], 4 * i);
      }
      gl.bindTexture(gl.TEXTURE_2D, b.colours);
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, b.width, b.rows, gl.RGBA, gl.UNSIGNED_BYTE, rgba);
    }
  }

  // ---- picking ---------------------------------------------------------------------------------
  function pickAt(clientX, clientY) {
    const rect = canvas.getBoundingClientRect(), p = scene.pick;
    resize();
    if (p.w !== canvas.width || p.h !== canvas.height) {
      p.w = canvas.width; p.h = canvas.height;
      gl.bindRenderbuffer(gl.RENDERBUFFER, p.colour); gl.renderbufferStorage(gl.RENDERBUFFER, gl.RGBA8, p.w, p.h);
      gl.bindRenderbuffer(gl.RENDERBUFFER, p.depth); gl.renderbufferStorage(gl.RENDERBUFFER, gl.DEPTH_COMPONENT24, p.w, p.h);
      gl.bindFramebuffer(gl.FRAMEBUFFER, p.fb);
      gl.framebufferRenderbuffer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.RENDERBUFFER, p.colour);
      gl.framebufferRenderbuffer(gl.FRAMEBUFFER, gl.DEPTH_ATTACHMENT, gl.RENDERBUFFER, p.depth);
    }
    const x = Math.floor((clientX - rect.left) / rect.width * p.w), y = Math.floor((1 - (clientY - rect.top) / rect.height) * p.h);
    gl.bindFramebuffer(gl.FRAMEBUFFER, p.fb);
    gl.enable(gl.SCISSOR_TEST);
    gl.scissor(x, y, 1, 1);  // only the pixel under the pointer is drawn
    draw(true);
    gl.disable(gl.SCISSOR_TEST);
    const px = new Uint8Array(4);
    gl.readPixels(x, y, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    const id = px[0] + (px[1] << 8) + (px[2] << 16) - 1;
    if (id < 0) return null;
    return px[3] === 255 ? { building: id } : { cell: id };
  }

  // ---- panels ----------------------------------------------------------------------------------
  function element(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    e.append(...children);
    return e;
  }

  function legendBlock(legend) {
    const list = element("ul");
    for (const e of legend.entries) list.append(element("li", {}, element("span", { class: "swatch", style: `background:${e.colour}` }), e.label));
    const parts = [element("h2", {}, legend.title), list];
    if (legend.note) parts.push(element("p", { class: "note" }, legend.note));
    return parts;
  }

  function showLegend() {
    const layer = scene.layers[state.layer], box = $("legend");
    box.replaceChildren();
    if (layer.steps.length) box.append(element("p", { class: "step", id: "legend-step" }, `design event of T = ${layer.steps[state.step]}`));
    if (layer.ground) box.append(...legendBlock(layer.ground));
    if (layer.buildings) box.append(...legendBlock(layer.buildings));
    else box.append(element("h2", {}, "Buildings"), element("p", { class: "note" }, layer.times.length
      ? "not coloured: their values are the run's, not this time's" : "no building values in this run"));
  }

  function formatted(column, value) {
    if (value === null || value === undefined) return "—";
    if (typeof value !== "number" || /(^|_)f?id$/.test(column)) return String(value);  // ids as they are
    const unit = (data.columns[column] || {}).unit || "";
    if (unit === "m") return value < 1 ? `${+(value * 100).toPrecision(3)} cm` : `${+value.toPrecision(3)} m`;
    if (unit === "%") return `${+(value * 100).toPrecision(3)} %`;
    if (unit === "KRW") return `${Math.round(value).toLocaleString("en")} KRW`;
    if (Number.isInteger(value)) return value.toLocaleString("en");
    return `${+value.toPrecision(4)}${unit ? " " + unit : ""}`;
  }

  function row(column, value) {
    const label = (data.columns[column] || {}).label || column.replace(/_/g, " ");
    return element("tr", { "data-column": column, "data-value": value === null ? "" : String(value) },
      element("th", { scope: "row" }, label), element("td", {}, formatted(column, value)));
  }

  function showBuilding(i) {
    const box = $("info"), table = data.table, values = table.values;
    box.replaceChildren();
    box.dataset.building = String(values.building_id ? values.building_id[i] : i);
    box.append(element("h2", {}, `Building ${values.building_id ? values.building_id[i] : i}`));
    if (!table.columns.length || !table.listed[i]) {
      box.append(element("p", { class: "note" }, "buildings.csv has no row for this building"));
    } else {
      const first = data.headline.filter((c) => c in values);
      const main = element("table", { class: "headline" }, ...first.map((c) => row(c, values[c][i])));
      const rest = table.columns.filter((c) => !first.includes(c));
      box.append(main, element("details", {}, element("summary", {}, "every column of buildings.csv"),
        element("table", {}, ...rest.map((c) => row(c, values[c][i])))));
    }
    box.hidden = false;
  }

  function showCell(cell) {
    const t = data.terrain, box = $("info"), layer = scene.layers[state.layer];
    const r = Math.floor(cell / t.nx), c = cell % t.nx;
    const cells = layer.cells.length ? layer.cells[Math.min(shown(layer), layer.cells.length - 1)] : null;
    const k = cells ? cells[cell] : NO_CLASS;
    const what = !layer.ground ? "—" : k === NO_CLASS ? `— (${layer.ground.note || "not drawn"})` : layer.ground.entries[k].label;
    box.replaceChildren(element("h2", {}, "Ground"), element("table", {},
      element("tr", {}, element("th", {}, "cell (row, column)"), element("td", {}, `${r}, ${c}`)),
      element("tr", {}, element("th", {}, "elevation"), element("td", {}, `${scene.heights[cell].toFixed(1)} m`)),
      element("tr", { "data-column": "layer" }, element("th", {}, layer.title), element("td", {}, what))));
    box.dataset.building = "";
    box.hidden = false;
  }

  // ---- controls --------------------------------------------------------------------------------
  function setLayer(i) {
    state.layer = i;
    const layer = scene.layers[i];
    state.time = Math.max(0, layer.times.length - 1);
    const slider = $("time-slider");
    $("time").hidden = !layer.times.length;
    slider.max = String(Math.max(0, layer.times.length - 1));
    slider.value = String(state.time);
    showTime();
    state.step = Math.max(0, layer.steps.length - 1);
    const buttons = $("step-buttons");
    buttons.replaceChildren(...layer.steps.map((label, k) => {
      const b = element("button", { type: "button", "data-step": String(k), title: `the design event of T = ${label}` }, label);
      b.addEventListener("click", () => setStep(k));
      return b;
    }));
    $("steps").hidden = !layer.steps.length;
    setStep(state.step);
  }

  function setStep(k) {
    state.step = k;
    for (const b of $("step-buttons").children) b.setAttribute("aria-pressed", String(+b.dataset.step === k));
    upload(); showLegend(); requestDraw();
  }

  function showTime() {
    const layer = scene.layers[state.layer];
    if (!layer.times.length) return;
    const s = layer.times[state.time], h = Math.floor(s / 3600), m = Math.round((s % 3600) / 60);
    $("time-label").textContent = `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`;
  }

  function setView(name) {
    const v = data.views[name];
    Object.assign(camera, fitted(v.bearing, v.elevation));
    state.view = name;
    for (const b of $("views").children) b.setAttribute("aria-pressed", String(b.dataset.view === name));
    requestDraw();
  }

  function controls() {
    const select = $("layer");
    scene.layers.forEach((layer, i) => select.append(element("option", { value: layer.key }, layer.title)));
    select.addEventListener("change", () => setLayer(select.selectedIndex));
    for (const name of Object.keys(data.views)) {
      const b = element("button", { type: "button", "data-view": name, title: data.views[name].title }, data.views[name].label);
      b.addEventListener("click", () => setView(name));
      $("views").append(b);
    }
    $("time-slider").addEventListener("input", (e) => { state.time = +e.target.value; showTime(); upload(); requestDraw(); });

    let drag = null, moved = false;
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());
    canvas.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY, pan: e.button === 2 || e.shiftKey };
      moved = false;
      canvas.setPointerCapture(e.pointerId);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.hypot(dx, dy) > 3) moved = true;
      if (!moved) return;
      canvas.classList.add("dragging");
      drag.x = e.clientX; drag.y = e.clientY;
      if (drag.pan) {
        const b = camera.bearing * Math.PI / 180, scale = camera.distance / canvas.clientHeight * 2 * Math.tan(FOV / 2);
        const right = [-Math.cos(b), Math.sin(b)], ahead = [-Math.sin(b), -Math.cos(b)];
        camera.target[0] -= (dx * right[0] - dy * ahead[0]) * scale;
        camera.target[1] -= (dx * right[1] - dy * ahead[1]) * scale;
      } else {
        camera.bearing = (camera.bearing - dx * 0.3 + 360) % 360;
        camera.elevation = Math.min(89.5, Math.max(5, camera.elevation + dy * 0.3));
      }
      requestDraw();
    });
    canvas.addEventListener("pointerup", () => { drag = null; canvas.classList.remove("dragging"); });
    canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      camera.distance *= Math.exp(e.deltaY * 0.001);
      requestDraw();
    }, { passive: false });
    canvas.addEventListener("click", (e) => {
      if (moved) { moved = false; return; }
      const hit = pickAt(e.clientX, e.clientY);
      state.selected = hit && "building" in hit ? hit.building : -1;
      if (!hit) $("info").hidden = true;
      else if ("building" in hit) showBuilding(hit.building);
      else showCell(hit.cell);
      requestDraw();
    });
    new ResizeObserver(() => requestDraw()).observe(canvas);
  }

  // ---- start -----------------------------------------------------------------------------------
  api.ready = (async () => {
    if (!gl) throw new Error("this viewer needs WebGL 2, which this browser does not offer");
    await build();
    controls();
    setView(data.view);
    setLayer(0);
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    document.body.dataset.ready = "true";
  })();
  api.ready.catch((err) => {
    const m = $("message");
    m.textContent = String(err.message || err);
    m.hidden = false;
    document.body.dataset.ready = "failed";
  });
})();
