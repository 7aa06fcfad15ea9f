// Drives headless Chromium against a running gridbootd through the Chrome
// DevTools Protocol over --remote-debugging-pipe (fd 3 to the browser,
// fd 4 from it, NUL-terminated JSON), so it needs Node and Debian's
// chromium only: no npm package, no WebSocket client.
//
// usage: node browser.js BASE_URL TOKEN SCREENSHOT.png DOM.html [power NAME]
// Prints "PASS what" / "FAIL what" lines for tests/integration/http_web.sh,
// or, with "power NAME", for power_redfish.sh: NAME's power buttons.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const [base, token, shot, domfile, scenario, powerName] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "gbweb-"));
const chrome = spawn("chromium", [
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
	"--user-data-dir=" + profile, "--window-size=1400,1000",
	"--remote-debugging-pipe", "about:blank",
], { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] });

let nextId = 1;
const pending = new Map();
let inbuf = Buffer.alloc(0);
chrome.stdio[4].on("data", (chunk) => {
	inbuf = Buffer.concat([inbuf, chunk]);
	let nul;
	while ((nul = inbuf.indexOf(0)) >= 0) {
		const msg = JSON.parse(inbuf.subarray(0, nul).toString());
		inbuf = inbuf.subarray(nul + 1);
		if (msg.id && pending.has(msg.id)) {
			const { resolve, reject } = pending.get(msg.id);
			pending.delete(msg.id);
			if (msg.error) reject(new Error(JSON.stringify(msg.error)));
			else resolve(msg.result);
		}
	}
});

let session;
function send(method, params = {}, useSession = true) {
	const id = nextId++;
	const msg = { id, method, params };
	if (useSession && session) msg.sessionId = session;
	chrome.stdio[3].write(JSON.stringify(msg) + "\0");
	return new Promise((resolve, reject) => {
		pending.set(id, { resolve, reject });
		setTimeout(() => reject(new Error("timeout: " + method)), 15000);
	});
}

async function evaluate(expr) {
	const r = await send("Runtime.evaluate", { expression: expr, returnByValue: true, awaitPromise: true });
	if (r.exceptionDetails) throw new Error(r.exceptionDetails.text + ": " + expr);
	return r.result.value;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFor(expr, ms = 8000) {
	for (let t = 0; t < ms; t += 100) {
		if (await evaluate(expr).catch(() => false)) return true;
		await sleep(100);
	}
	return false;
}

let failed = 0;
function report(ok, what) {
	console.log((ok ? "PASS " : "FAIL ") + what);
	if (!ok) failed++;
}

// A real mouse click in the middle of the element.
async function click(selector) {
	const box = await evaluate(`(() => { const e = document.querySelector(${JSON.stringify(selector)});
		if (!e) return null; e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect();
		return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()`);
	if (!box) throw new Error("no element " + selector);
	// A user can only click what is on top: fail if something covers it.
	const top = await evaluate(`(() => { const e = document.querySelector(${JSON.stringify(selector)});
		const t = document.elementFromPoint(${box.x}, ${box.y});
		return e.contains(t) ? "" : (t ? t.outerHTML.slice(0, 60) : "nothing"); })()`);
	if (top) throw new Error(selector + " is covered by " + top);
	for (const type of ["mousePressed", "mouseReleased"])
		await send("Input.dispatchMouseEvent", { type, x: box.x, y: box.y, button: "left", clickCount: 1 });
}

// Focus and type, as a user would.
async function type(selector, text) {
	await click(selector);
	await evaluate(`document.querySelector(${JSON.stringify(selector)}).select?.()`);
	await send("Input.insertText", { text });
}

const has = (sel, text) => `(() => { const e = document.querySelector(${JSON.stringify(sel)});
	return !!e && e.textContent.includes(${JSON.stringify(text)}); })()`;

// The operator selects a machine with a BMC and presses its buttons: off
// without the token is refused and says why; with it, off and then cycle
// are queued and their outcomes come back to the page live.
async function powerFlow(name) {
	const row = `#machines tr[data-name="${name}"]`;
	// Its own events only: the timeline holds every machine's.
	const { mac } = await fetch(base + "/api/v1/machines/" + name).then((r) => r.json());
	report(await waitFor(`document.querySelector('${row} td.power') !== null`),
		"the machines table has a power column");
	await click(row);
	report(await waitFor(`!document.querySelector("#power").hidden`) &&
		await waitFor(has("#power-state", "(redfish)")),
		name + "'s power state and driver are shown");
	const button = (op) => `#power-buttons button[data-op="${op}"]`;
	report(await waitFor(`document.querySelector('${button("cycle")}') !== null`),
		"it has on, off, cycle and next-boot buttons");
	await click(button("off"));
	report(await waitFor(`document.querySelector("#power-result").className === "error"`) &&
		await waitFor(has("#power-result", "Authorization")),
		"a button without the token is refused and says why");
	await type("#token", token);
	await click(button("off"));
	report(await waitFor(has("#power-result", "off queued")), "off with the token is queued");
	report(await waitFor(has("#timeline", mac + " off done")), "its outcome arrives on the timeline live");
	report(await waitFor(has("#power-state", "power off")), "the power state shown turns to off");
	await waitFor(`!document.querySelector('${button("cycle")}').disabled`);
	await click(button("cycle"));
	report(await waitFor(has("#timeline", mac + " cycle done")), "cycle by its button is done");
	report(await waitFor(has(row + " td.power", "on")), "the table's power column follows (on)");
	const png = await send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true });
	fs.writeFileSync(shot, Buffer.from(png.data, "base64"));
	fs.writeFileSync(domfile, await evaluate("document.documentElement.outerHTML"));
}

async function main() {
	const { targetId } = await send("Target.createTarget", { url: "about:blank" }, false);
	session = (await send("Target.attachToTarget", { targetId, flatten: true }, false)).sessionId;
	await send("Page.enable");
	await send("Runtime.enable");
	await send("Page.navigate", { url: base + "/" });
	if (scenario === "power")
		return powerFlow(powerName);

	report(await waitFor(`document.querySelectorAll("#machines tr.machine").length >= 5`),
		"the page lists the inventory's machines");
	report(await waitFor(`document.querySelector('#machines tr[data-name="cpu1"] .state') !== null`),
		"each machine shows a state badge");
	report(await waitFor(`document.querySelector("#stream-state").textContent === "live"`),
		"the event stream is connected");
	report(await waitFor(has("#timeline", "gridbootd started")),
		"the timeline replays earlier events");

	// A machine starts booting: the timeline and its state follow live.
	await fetch(base + "/ipxe/525400000011.ipxe").then((r) => r.text());
	report(await waitFor(has("#timeline", "GET /ipxe/525400000011.ipxe")),
		"a boot fetch appears on the timeline live");
	report(await waitFor(`document.querySelector('#machines tr[data-name="cpu1"]').dataset.state === "booting"`),
		"cpu1's state turns to booting");

	await click('#machines tr[data-name="cpu1"]');
	report(await waitFor(has("#detail-ini", "sysname=cpu1")), "clicking cpu1 shows its plan9.ini");
	const ini = await fetch(base + "/plan9.ini/525400000011").then((r) => r.text());
	report(await evaluate(`document.querySelector("#detail-ini").textContent`) === ini,
		"the page's plan9.ini is the one served to the machine");
	report(await waitFor(`document.querySelector('#waterfall li[data-step="kernel"] .bar') !== null`),
		"its last boot is drawn as a waterfall (the fetch as its kernel step)");

	// A discovered machine enrolled (http_web.sh did, from the address
	// leased to it: enroll is refused from any other), then the operator
	// assigns it a role.
	report(await waitFor(`document.querySelector('#discovered form[data-mac="52:54:00:00:00:99"]') !== null`),
		"the enrolled machine appears under Discovered with an assign form");
	report(await waitFor(has("#discovered", "memory_mb=4096")), "its enrolled facts are shown");

	const form = '#discovered form[data-mac="52:54:00:00:00:99"]';
	await evaluate(`document.querySelector('${form} select').value = "cpu"`);
	await click(form + " button");
	report(await waitFor(`document.querySelector("#assign-result").className === "error"`) &&
		await waitFor(has("#assign-result", "Authorization")),
		"assigning without the token is refused and says why");

	await type("#token", token);
	await type(form + ' input[name="name"]', "webcpu");
	// Events keep arriving while the operator types; the table is rebuilt
	// for each. The typed name must survive that.
	await fetch(base + "/ipxe/525400000012.ipxe").then((r) => r.text());
	await waitFor(has("#timeline", "GET /ipxe/525400000012.ipxe"));
	await sleep(600);
	report(await evaluate(`document.querySelector('${form} input[name="name"]').value`) === "webcpu",
		"what the operator typed survives the live refresh");
	await click(form + " button");
	report(await waitFor(`document.querySelector("#assign-result").className === "ok"`),
		"assigning with the token succeeds");
	report(await waitFor(`document.querySelector('#machines tr[data-name="webcpu"]') !== null`),
		"the new machine webcpu is listed with role cpu");
	report(await waitFor(has("#detail-ini", "sysname=webcpu")), "and its plan9.ini is shown");
	const api = await fetch(base + "/api/v1/machines/webcpu").then((r) => r.json());
	report(api.role === "cpu", "the API agrees: webcpu has role cpu");

	await sleep(300);
	const png = await send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true });
	fs.writeFileSync(shot, Buffer.from(png.data, "base64"));
	fs.writeFileSync(domfile, await evaluate("document.documentElement.outerHTML"));
	report(fs.statSync(shot).size > 10000, "a screenshot was taken");
}

main().catch((err) => {
	report(false, "browser session: " + err.message);
}).finally(() => {
	chrome.kill("SIGTERM");
	setTimeout(() => {
		chrome.kill("SIGKILL");
		try {
			fs.rmSync(profile, { recursive: true, force: true });
		} catch (err) {
			/* Chromium may still be writing its profile; /tmp is fine. */
		}
		process.exit(failed ? 1 : 0);
	}, 500);
});
