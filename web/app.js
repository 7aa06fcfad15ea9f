// gridboot's web page: machines and their state, the live boot timeline
// (Server-Sent Events), each machine's plan9.ini, role assignment for
// discovered machines, and power buttons for machines with a BMC. Plain DOM, no build step; every text from the
// server goes in through textContent, never as HTML.
"use strict";

const API = "/api/v1";
const MAX_EVENTS = 300;
const $ = (sel) => document.querySelector(sel);
let roles = [];
let selected = null;
let refreshTimer = null;

function el(tag, props, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(props || {})) {
		if (k === "class") e.className = v;
		else if (k.startsWith("data-")) e.setAttribute(k, v);
		else e[k] = v;
	}
	for (const k of kids)
		e.append(k instanceof Node ? k : document.createTextNode(k ?? ""));
	return e;
}

async function getJSON(path) {
	const r = await fetch(API + path, { cache: "no-store" });
	const body = await r.json().catch(() => ({}));
	if (!r.ok) throw new Error(body.error || r.statusText);
	return body;
}

function when(ms) {
	return ms ? new Date(ms).toLocaleTimeString() : "—";
}

function badge(state) {
	return el("span", { class: "state " + state }, state);
}

async function loadMachines() {
	const { machines } = await getJSON("/machines");
	const tbody = $("#machines tbody");
	tbody.replaceChildren(...machines.map((m) => {
		const tr = el("tr", { class: "machine" + (m.name === selected ? " selected" : ""),
			"data-name": m.name, "data-state": m.state },
			el("td", {}, m.name), el("td", { class: "mac" }, m.mac),
			el("td", {}, m.ip || "pool"), el("td", {}, m.arch + " " + m.firmware),
			el("td", {}, m.role || "—"), el("td", {}, m.boot),
			el("td", {}, badge(m.state)),
			el("td", { class: "power" }, m.power ? m.power.state +
				(m.power.running ? " (" + m.power.running + "…)" : "") : "—"),
			el("td", {}, when(m.last_event_ms)));
		tr.addEventListener("click", () => showMachine(m.name));
		return tr;
	}));
	let state = machines.length + " machines";
	// Several gridbootd on one database (docs/scale.md): which, and whether
	// the database is there.
	const store = await getJSON("/store").catch(() => null);
	if (store && store.backend !== "files")
		state += " · " + (store.up ? "" : "database away, ") + "instances: " +
			(store.instances.join(" ") || store.instance);
	$("#grid-state").textContent = state;
}

function assignForm(d) {
	const fit = roles.filter((r) => !d.arch || r.arch === d.arch);
	const select = el("select", { name: "role" },
		...fit.map((r) => el("option", { value: r.name }, r.name + " (" + r.kernel + ")")));
	const name = el("input", { name: "name", placeholder: "m-" + d.mac.replaceAll(":", "") });
	const form = el("form", { class: "assign", "data-mac": d.mac }, select, name,
		el("button", { type: "submit" }, "Assign"));
	form.addEventListener("submit", (e) => {
		e.preventDefault();
		assign(d.mac, select.value, name.value.trim());
	});
	return form;
}

// The table is rebuilt on every event; what the operator is typing into
// an assign form (and where the cursor is) must survive that.
function saveForms() {
	const saved = new Map();
	for (const f of document.querySelectorAll("#discovered form.assign")) {
		const active = document.activeElement;
		const role = f.querySelector("select"), name = f.querySelector("input");
		saved.set(f.dataset.mac, { role: role.value, name: name.value,
			focus: f.contains(active) ? active.name || "button" : null });
	}
	return saved;
}

function restoreForms(saved) {
	for (const f of document.querySelectorAll("#discovered form.assign")) {
		const s = saved.get(f.dataset.mac);
		if (!s) continue;
		const role = f.querySelector("select"), name = f.querySelector("input");
		if ([...role.options].some((o) => o.value === s.role)) role.value = s.role;
		name.value = s.name;
		if (s.focus === "name") name.focus();
		else if (s.focus === "role") role.focus();
	}
}

async function loadDiscovered() {
	const { discovered } = await getJSON("/discovered");
	const saved = saveForms();
	$("#discovered-empty").hidden = discovered.length > 0;
	$("#discovered tbody").replaceChildren(...discovered.map((d) => {
		const facts = d.summary ? Object.entries(d.summary).filter(([k]) => k !== "mac")
			.map(([k, v]) => k + "=" + (typeof v === "object" ? JSON.stringify(v) : v))
			.join(" ") : "";
		return el("tr", { "data-mac": d.mac },
			el("td", { class: "mac" }, d.mac),
			el("td", {}, d.arch ? d.arch + " " + d.firmware : "?"),
			el("td", {}, d.vendor_class || "—"), el("td", { class: "mono" }, facts || "—"),
			el("td", {}, when(d.last_seen_ms)), el("td", {}, badge(d.state)),
			el("td", {}, d.machine ? "now " + d.machine : assignForm(d)));
	}));
	restoreForms(saved);
}

async function showMachine(name) {
	selected = name;
	for (const tr of document.querySelectorAll("#machines tr.machine"))
		tr.classList.toggle("selected", tr.dataset.name === name);
	try {
		const m = await getJSON("/machines/" + encodeURIComponent(name));
		$("#detail-name").textContent = m.name + " (" + m.mac + ")";
		$("#detail-ini").textContent = m.plan9ini ?? "(does not fit Plan 9's limits)";
		drawWaterfall(m.boot_steps || []);
		drawPower(m);
		$("#detail-section").hidden = false;
	} catch (err) {
		$("#detail-ini").textContent = String(err.message);
	}
}

// Power buttons: each queues one operation (POST .../power); its outcome
// arrives as a power event on the timeline, which refreshes the page.
function drawPower(m) {
	const box = $("#power");
	box.hidden = !m.power;
	if (!m.power)
		return;
	const p = m.power;
	$("#power-state").textContent = "power " + p.state + " (" + p.driver + ")" +
		(p.running ? ", " + p.running + " running" : "") + (p.error ? ": " + p.error : "");
	$("#power-buttons").replaceChildren(...["on", "off", "cycle", "pxe"].map((op) =>
		el("button", { type: "button", "data-op": op, disabled: !!p.running,
			onclick: () => power(m.name, op) }, op === "pxe" ? "next boot: network" : op)));
}

async function power(name, op) {
	const out = $("#power-result");
	const r = await fetch(API + "/machines/" + encodeURIComponent(name) + "/power", {
		method: "POST",
		headers: { "Content-Type": "application/json",
			"Authorization": "Bearer " + $("#token").value },
		body: JSON.stringify({ op }),
	});
	const res = await r.json().catch(() => ({}));
	out.className = r.ok ? "ok" : "error";
	out.textContent = r.ok ? name + ": " + op + " queued; its outcome goes to the timeline"
		: name + " " + op + ": " + (res.error || r.statusText);
	showMachine(name);
}

// The last boot as a waterfall: one bar per step (DHCP, kernel, root, up),
// starting where the step before ended, as long as the step took, so a
// slow step shows at a glance.
function drawWaterfall(steps) {
	const list = $("#waterfall");
	$("#waterfall-empty").hidden = steps.length > 0;
	list.hidden = steps.length === 0;
	if (steps.length === 0) {
		list.replaceChildren();
		return;
	}
	const t0 = steps[0].time_ms;
	const total = Math.max(1, steps[steps.length - 1].time_ms - t0);
	list.replaceChildren(...steps.map((s) => {
		const start = s.time_ms - s.took_ms - t0;
		const bar = el("span", { class: "bar" });
		bar.style.marginLeft = (100 * start / total) + "%";
		bar.style.width = Math.max(0.5, 100 * s.took_ms / total) + "%";
		return el("li", { "data-step": s.step },
			el("span", { class: "step" }, s.step),
			el("span", { class: "track" }, bar),
			el("span", { class: "took" }, "+" + (s.took_ms / 1000).toFixed(1) + " s"));
	}));
}

async function assign(mac, role, name) {
	const out = $("#assign-result");
	const body = { role };
	if (name) body.name = name;
	const r = await fetch(API + "/discovered/" + encodeURIComponent(mac) + "/assign", {
		method: "POST",
		headers: { "Content-Type": "application/json",
			"Authorization": "Bearer " + $("#token").value },
		body: JSON.stringify(body),
	});
	const res = await r.json().catch(() => ({}));
	out.className = r.ok ? "ok" : "error";
	out.textContent = r.ok ? mac + " is now " + (res.name || "assigned") + " (role " + role + ")"
		: "assign " + mac + ": " + (res.error || r.statusText);
	await refresh();
	if (r.ok && res.name)
		showMachine(res.name);
}

function addEvent(ev) {
	const li = el("li", { "data-seq": String(ev.seq), "data-kind": ev.kind },
		el("time", {}, when(ev.time_ms)), el("span", { class: "kind" }, ev.kind),
		el("span", { class: "mac" }, ev.mac ? ev.mac + " " : ""), ev.text);
	const list = $("#timeline");
	list.prepend(li);
	while (list.children.length > MAX_EVENTS)
		list.lastChild.remove();
}

function scheduleRefresh() {
	clearTimeout(refreshTimer);
	refreshTimer = setTimeout(refresh, 300);
}

async function refresh() {
	try {
		await Promise.all([loadMachines(), loadDiscovered()]);
	} catch (err) {
		$("#grid-state").textContent = "error: " + err.message;
	}
}

function connect() {
	const es = new EventSource(API + "/events");
	const state = $("#stream-state");
	es.onopen = () => { state.textContent = "live"; };
	es.onerror = () => { state.textContent = "reconnecting…"; };
	es.addEventListener("boot", (e) => {
		const ev = JSON.parse(e.data);
		addEvent(ev);
		scheduleRefresh();
		if (ev.kind === "power" && selected)
			showMachine(selected);
	});
}

async function main() {
	const tok = $("#token");
	tok.value = sessionStorage.getItem("gridboot-token") || "";
	tok.addEventListener("change", () => sessionStorage.setItem("gridboot-token", tok.value));
	try {
		roles = (await getJSON("/roles")).roles;
	} catch (err) {
		roles = [];
	}
	await refresh();
	connect();
}

main();
