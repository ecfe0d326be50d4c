// ENI console: draws /console/api/state and redraws it on every "change"
// event of /console/api/events. Plain DOM and SVG, no build step.
//
// The state is the EC2 API's own Describe* output (state.ec2) plus what the
// console derives in the core (state.subnets). index() turns it into a
// model of maps; draw*() render it; details are built from the same model.
// To show more (another view, say), add a field to the state on the server
// and a draw step here: nothing else needs to change.
'use strict';

(() => {
  const $ = (sel, el = document) => el.querySelector(sel);
  const canvas = $('#canvas');
  const diagram = $('#diagram');
  const wires = $('#wires');
  const detail = $('#detail');
  const events = $('#events');
  const banner = $('#banner');
  const live = $('#live');
  const billed = $('#billed');

  const view = { region: '', account: '', vpc: '' }; // kept in location.hash: GET /?… is the EC2 API's
  let state = null; // last state drawn
  let model = null; // index(state)
  let selected = null; // {kind, id}
  let attrsOpen = null; // the user's choice for "All attributes", once made
  const userOpen = new Map(); // VPC id -> open, as the user last toggled it
  const lastHome = new Map(); // ENI id -> {instance, at}: where it was last attached

  // ---------- helpers ----------
  const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ESC[c]);
  const tagsOf = (list) => Object.fromEntries((list || []).map((t) => [t.Key, t.Value]));
  const nameOf = (o, list) => tagsOf(list || o.Tags || o.TagSet).Name || '';
  const byKey = (f) => (a, b) => (f(a) < f(b) ? -1 : f(a) > f(b) ? 1 : 0);
  const ipNum = (cidr) => (cidr || '').split('/')[0].split('.').reduce((n, o) => n * 256 + (+o || 0), 0);
  const hhmmss = (d) => d.toTimeString().slice(0, 8);

  // ---------- model ----------
  function index(st) {
    const e = st.ec2 || {};
    const m = {
      vpcs: new Map(), subnets: new Map(), instances: new Map(), enis: new Map(), sgs: new Map(),
      rtbs: new Map(), igws: new Map(), eips: new Map(), azs: new Map(), rules: new Map(),
      enisOf: new Map(), freeEnisOf: new Map(), instancesOf: new Map(), eipAt: new Map(),
      igwOf: new Map(), sgUsers: new Map(), subnetInfo: st.subnets || {},
    };
    const push = (map, k, v) => { if (!map.has(k)) map.set(k, []); map.get(k).push(v); };
    for (const z of e.AvailabilityZones || []) m.azs.set(z.ZoneName, z);
    for (const v of e.Vpcs || []) m.vpcs.set(v.VpcId, v);
    for (const s of e.Subnets || []) m.subnets.set(s.SubnetId, s);
    for (const g of e.SecurityGroups || []) m.sgs.set(g.GroupId, g);
    for (const r of e.SecurityGroupRules || []) push(m.rules, r.GroupId, r);
    for (const r of e.RouteTables || []) m.rtbs.set(r.RouteTableId, r);
    for (const g of e.InternetGateways || []) {
      m.igws.set(g.InternetGatewayId, g);
      for (const a of g.Attachments || []) if (a.VpcId) m.igwOf.set(a.VpcId, g);
    }
    for (const a of e.Addresses || []) {
      m.eips.set(a.AllocationId || a.PublicIp, a);
      if (a.NetworkInterfaceId) m.eipAt.set(a.NetworkInterfaceId + '/' + a.PrivateIpAddress, a);
    }
    for (const i of e.Instances || []) {
      m.instances.set(i.InstanceId, i);
      if (i.SubnetId) push(m.instancesOf, i.SubnetId, i);
    }
    for (const n of e.NetworkInterfaces || []) {
      m.enis.set(n.NetworkInterfaceId, n);
      const inst = n.Attachment && n.Attachment.InstanceId;
      if (inst && m.instances.has(inst)) push(m.enisOf, inst, n);
      else push(m.freeEnisOf, n.SubnetId, n);
      for (const g of n.Groups || []) push(m.sgUsers, g.GroupId, n);
    }
    for (const list of m.enisOf.values()) list.sort(byKey((n) => n.Attachment.DeviceIndex ?? 0));
    return m;
  }

  // ---------- drawing ----------
  function draw() {
    const vpcs = [...model.vpcs.values()]
      .filter((v) => !view.vpc || v.VpcId === view.vpc)
      .sort((a, b) => (a.IsDefault === b.IsDefault ? byKey((v) => v.VpcId)(a, b) : a.IsDefault ? 1 : -1));
    let html = drawRegionBar();
    if (vpcs.length === 0) html += '<p class="empty">No VPCs in this account and region yet.</p>';
    for (const v of vpcs) html += drawVpc(v);
    canvas.innerHTML = html;
    markSelected();
  }

  function drawRegionBar() {
    const idle = [...model.eips.values()].filter((a) => !a.AssociationId);
    let html = `<div class="region-bar"><h2>${esc(state.region)}</h2><span>account <code>${esc(state.account)}</code></span>`;
    html += `<span>${model.vpcs.size} VPC${model.vpcs.size === 1 ? '' : 's'} · ${model.instances.size} instance${model.instances.size === 1 ? '' : 's'} · ${model.enis.size} ENI${model.enis.size === 1 ? '' : 's'} · ${model.eips.size} Elastic IP${model.eips.size === 1 ? '' : 's'}</span>`;
    if (idle.length) {
      html += `<span class="idle">not associated: ${idle.map((a) => eipChip(a)).join('')}</span>`;
    }
    return html + '</div>';
  }

  function drawVpc(v) {
    const name = nameOf(v);
    const subnets = [...model.subnets.values()].filter((s) => s.VpcId === v.VpcId);
    const busy = subnets.some((s) => (model.instancesOf.get(s.SubnetId) || []).length || (model.freeEnisOf.get(s.SubnetId) || []).length);
    const cidrs = [...(v.CidrBlockAssociationSet || []).filter((c) => c.CidrBlockState?.State === 'associated').map((c) => c.CidrBlock),
      ...(v.Ipv6CidrBlockAssociationSet || []).filter((c) => c.Ipv6CidrBlockState?.State === 'associated').map((c) => c.Ipv6CidrBlock)];
    const head = `<span class="kind">VPC</span><span class="name">${esc(name || v.VpcId)}</span>` +
      (name ? `<code>${esc(v.VpcId)}</code>` : '') +
      `<code>${esc((cidrs.length ? cidrs : [v.CidrBlock]).join(', '))}</code>` +
      (v.IsDefault ? '<span class="tag">default VPC</span>' : '') +
      `<span class="muted">${subnets.length} subnet${subnets.length === 1 ? '' : 's'}</span>`;
    // An idle default VPC is folded (three empty subnets say little), unless the user opened it.
    const open = userOpen.has(v.VpcId) ? userOpen.get(v.VpcId) : !v.IsDefault || busy || view.vpc === v.VpcId;
    return `<details class="vpc" data-vpc="${esc(v.VpcId)}"${open ? ' open' : ''}><summary data-kind="vpc" data-id="${esc(v.VpcId)}">${head}</summary>` +
      (open ? `<div class="vpc-body">${drawEdge(v)}${drawAzs(v, subnets)}${drawFoot(v)}</div>` : '') + '</details>';
  }

  function drawEdge(v) {
    const igw = model.igwOf.get(v.VpcId);
    let html = '<div class="edge">';
    html += igw
      ? `<div class="igw" data-kind="igw" data-id="${esc(igw.InternetGatewayId)}" data-igw-vpc="${esc(v.VpcId)}">${igwIcon()}<span>Internet gateway <code>${esc(igw.InternetGatewayId)}</code></span></div>`
      : '<div class="igw none">no internet gateway</div>';
    for (const a of model.eips.values()) {
      const n = a.NetworkInterfaceId && model.enis.get(a.NetworkInterfaceId);
      if (n && n.VpcId === v.VpcId) html += eipChip(a);
    }
    return html + '</div>';
  }

  function eipChip(a) {
    const id = a.AllocationId || a.PublicIp;
    if (!a.AssociationId) {
      return `<span class="eip idle" data-kind="eip" data-id="${esc(id)}" title="allocated, not associated"><span class="label">EIP</span>${esc(a.PublicIp)}<span class="arrow">→ nothing</span></span>`;
    }
    return `<span class="eip" data-kind="eip" data-id="${esc(id)}" data-eip-eni="${esc(a.NetworkInterfaceId)}" data-eip-ip="${esc(a.PrivateIpAddress)}"><span class="label">EIP</span>${esc(a.PublicIp)}<span class="arrow">→ ${esc(a.PrivateIpAddress)}</span></span>`;
  }

  function drawAzs(v, subnets) {
    const zones = [...new Set(subnets.map((s) => s.AvailabilityZone))].sort();
    if (!zones.length) return '<p class="empty">No subnets.</p>';
    let html = '<div class="azs">';
    for (const z of zones) {
      const az = model.azs.get(z);
      html += `<div class="az" data-az="${esc(z)}"><h4>${esc(z)}<small>${esc(az ? az.ZoneId : '')}</small></h4>`;
      const inZone = subnets.filter((s) => s.AvailabilityZone === z).sort(byKey((s) => ipNum(s.CidrBlock)));
      for (const s of inZone) html += drawSubnet(s);
      html += '</div>';
    }
    return html + '</div>';
  }

  function drawSubnet(s) {
    const info = model.subnetInfo[s.SubnetId] || {};
    const name = nameOf(s);
    const insts = (model.instancesOf.get(s.SubnetId) || []).slice()
      .sort(byKey((i) => (i.LaunchTime || '') + i.InstanceId));
    const free = model.freeEnisOf.get(s.SubnetId) || [];
    let html = `<div class="subnet ${info.public ? 'public' : 'private'}" data-subnet="${esc(s.SubnetId)}">` +
      `<header data-kind="subnet" data-id="${esc(s.SubnetId)}"><span class="kind">${info.public ? 'public' : 'private'} subnet</span>` +
      `<b>${esc(name || s.SubnetId)}</b>${name ? `<code>${esc(s.SubnetId)}</code>` : ''}<code>${esc(s.CidrBlock)}</code>` +
      `<span class="rtb-ref">${info.routeTableId ? 'routes: <code>' + esc(info.routeTableId) + '</code> · ' : ''}${esc(s.AvailableIpAddressCount)} free</span></header>` +
      '<div class="subnet-body">';
    for (const i of insts) html += drawInstance(i);
    if (free.length) {
      html += `<div class="tray"><h5>Not on an instance (${free.length})</h5>${free.map((n) => drawEni(n)).join('')}</div>`;
    }
    if (!insts.length && !free.length) html += '<div class="none">no instances or ENIs</div>';
    return html + '</div></div>';
  }

  function drawInstance(i) {
    const st = i.State ? i.State.Name : '';
    const name = nameOf(i);
    const enis = model.enisOf.get(i.InstanceId) || [];
    return `<div class="instance ${esc(st)}" data-instance="${esc(i.InstanceId)}">` +
      `<header data-kind="instance" data-id="${esc(i.InstanceId)}"><span class="kind">EC2</span><span class="name">${esc(name || i.InstanceId)}</span>` +
      `${name ? `<code>${esc(i.InstanceId)}</code>` : ''}<span class="muted">${esc(i.InstanceType)}</span><span class="state ${esc(st)}">${esc(st)}</span></header>` +
      `<div class="enis">${enis.map((n) => drawEni(n)).join('') || '<div class="none">no network interfaces</div>'}</div></div>`;
  }

  function drawEni(n) {
    const att = n.Attachment && n.Attachment.InstanceId ? n.Attachment : null;
    const eth = att ? 'eth' + (att.DeviceIndex ?? 0) : '—';
    const ips = (n.PrivateIpAddresses || []).map((p) => {
      const eip = model.eipAt.get(n.NetworkInterfaceId + '/' + p.PrivateIpAddress);
      const pub = p.Association && p.Association.PublicIp;
      let s = `<span class="ip${p.Primary ? ' primary' : ''}" data-ip="${esc(p.PrivateIpAddress)}" title="${p.Primary ? 'primary' : 'secondary'} private IPv4">${esc(p.PrivateIpAddress)}</span>`;
      if (pub) s += `<span class="pub${eip ? ' eipaddr' : ''}" title="${eip ? 'Elastic IP ' + esc(eip.AllocationId) : 'public IPv4 (auto-assigned)'}">⇄ ${esc(pub)}</span>`;
      return s;
    });
    const v6 = (n.Ipv6Addresses || []).map((a) => `<span class="ip6">${esc(a.Ipv6Address)}</span>`);
    const prefixes = [...(n.Ipv4Prefixes || []).map((p) => p.Ipv4Prefix), ...(n.Ipv6Prefixes || []).map((p) => p.Ipv6Prefix)]
      .map((p) => `<span class="ip6">${esc(p)}</span>`);
    const groups = (n.Groups || []).map((g) => `<span class="sgchip" data-sg="${esc(g.GroupId)}" title="${esc(g.GroupId)}" tabindex="0">${esc(g.GroupName || g.GroupId)}</span>`);
    const sdc = n.SourceDestCheck !== false;
    return `<div class="eni" data-eni="${esc(n.NetworkInterfaceId)}" tabindex="0">` +
      `<div class="eth${att ? '' : ' free'}">${esc(eth)}</div><div class="body">` +
      `<div class="l1"><code class="id">${esc(n.NetworkInterfaceId)}</code><span class="status ${esc(n.Status)}">${esc(n.Status)}</span><code class="mac">${esc(n.MacAddress)}</code></div>` +
      `<div class="ips">${[...ips, ...v6, ...prefixes].join('')}</div>` +
      `<div class="l3">${groups.join('')}<span class="flag${sdc ? '' : ' off'}">src/dst check ${sdc ? 'on' : 'off'}</span>` +
      (n.Description ? `<span class="desc">${esc(n.Description)}</span>` : '') + '</div></div></div>';
  }

  function drawFoot(v) {
    const isMain = (r) => (r.Associations || []).some((a) => a.Main);
    const rtbs = [...model.rtbs.values()].filter((r) => r.VpcId === v.VpcId).sort(byKey((r) => (isMain(r) ? '0' : '1') + r.RouteTableId));
    const sgs = [...model.sgs.values()].filter((g) => g.VpcId === v.VpcId).sort(byKey((g) => g.GroupName));
    let html = '<div class="foot">';
    for (const r of rtbs) {
      const main = isMain(r);
      const subs = (r.Associations || []).filter((a) => a.SubnetId).map((a) => a.SubnetId);
      html += `<div class="rtb" data-kind="rtb" data-id="${esc(r.RouteTableId)}"><header><span class="kind">route table</span><code>${esc(r.RouteTableId)}</code>${main ? '<span class="tag">main</span>' : ''}</header><table>`;
      for (const rt of r.Routes || []) {
        html += `<tr><td>${esc(rt.DestinationCidrBlock || rt.DestinationIpv6CidrBlock || rt.DestinationPrefixListId)}</td><td class="to">→ ${esc(routeTarget(rt))}</td></tr>`;
      }
      html += `</table><div class="assoc">${subs.length ? 'subnets: ' + subs.map((s) => `<code>${esc(s)}</code>`).join(' ') : main ? 'every subnet without a table of its own' : 'no subnets'}</div></div>`;
    }
    html += `<div class="sgs"><span class="kind">security groups</span><div class="list">${sgs.map((g) =>
      `<span class="sgchip" data-sg="${esc(g.GroupId)}" title="${esc(g.GroupId)}" tabindex="0">${esc(g.GroupName)}</span>`).join('')}</div></div>`;
    return html + '</div>';
  }

  function routeTarget(rt) {
    return rt.GatewayId || rt.NetworkInterfaceId || rt.InstanceId || rt.NatGatewayId || rt.VpcPeeringConnectionId ||
      rt.TransitGatewayId || rt.EgressOnlyInternetGatewayId || rt.LocalGatewayId || rt.CarrierGatewayId || '?';
  }

  function igwIcon() {
    return '<svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true"><circle cx="10" cy="10" r="8.2" fill="none" stroke="#8c4fff" stroke-width="1.6"/>' +
      '<path d="M1.8 10h16.4M10 1.8c2.6 2.4 2.6 14 0 16.4M10 1.8c-2.6 2.4-2.6 14 0 16.4" fill="none" stroke="#8c4fff" stroke-width="1.3"/></svg>';
  }

  // ---------- wires (SVG over the diagram) ----------
  function drawWires() {
    const base = canvas.getBoundingClientRect();
    const ox = canvas.offsetLeft, oy = canvas.offsetTop;
    wires.setAttribute('width', canvas.scrollWidth + ox);
    wires.setAttribute('height', canvas.scrollHeight + oy);
    const at = (el) => { const r = el.getBoundingClientRect(); return { x: r.left - base.left + ox, y: r.top - base.top + oy, w: r.width, h: r.height }; };
    let svg = '<defs><marker id="dot" viewBox="0 0 8 8" refX="4" refY="4" markerWidth="7" markerHeight="7"><circle cx="4" cy="4" r="3.2" class="wire-end"/></marker></defs>';
    // An Elastic IP's wire leaves its chip downwards, runs in the right-hand
    // gutter of the ENI's subnet and enters the ENI from the right, at the
    // row of its addresses: it crosses no card.
    const lanes = new Map(); // subnet -> wires drawn in its gutter
    for (const chip of canvas.querySelectorAll('.eip[data-eip-eni]')) {
      const eni = canvas.querySelector(`.eni[data-eni="${CSS.escape(chip.dataset.eipEni)}"]`);
      if (!eni) continue;
      const subnet = eni.closest('.subnet');
      const lane = lanes.get(subnet) || 0;
      lanes.set(subnet, lane + 1);
      const ip = eni.querySelector(`[data-ip="${CSS.escape(chip.dataset.eipIp)}"]`) || eni;
      const a = at(chip), s = at(subnet), n = at(eni), p = at(ip);
      const gx = s.x + s.w - 10 - 5 * lane; // in the subnet's right padding
      const y0 = a.y + a.h, y1 = y0 + 10 + 4 * lane, y2 = p.y + p.h / 2;
      const pts = [[a.x + a.w / 2, y0], [a.x + a.w / 2, y1], [gx, y1], [gx, y2], [n.x + n.w, y2]];
      svg += `<path class="wire eip" marker-end="url(#dot)" d="${rounded(pts, 8)}"/>`;
    }
    for (const igw of canvas.querySelectorAll('.igw[data-igw-vpc]')) {
      const vpc = igw.closest('.vpc');
      const a = at(igw);
      // To each public subnet: down from the gateway, along the gap above
      // the subnet, into its badge.
      for (const badge of vpc.querySelectorAll('.subnet.public > header .kind')) {
        const b = at(badge), s = at(badge.closest('.subnet'));
        const x1 = a.x + a.w / 2, ym = s.y - 5, x2 = b.x + b.w / 2;
        svg += `<path class="wire igw" d="${rounded([[x1, a.y + a.h], [x1, ym], [x2, ym], [x2, b.y]], 6)}"/>`;
      }
    }
    wires.innerHTML = svg;
  }

  // rounded draws a polyline through pts with rounded corners of radius r.
  function rounded(pts, r) {
    let d = `M${pts[0][0]},${pts[0][1]}`;
    for (let i = 1; i < pts.length - 1; i++) {
      const [px, py] = pts[i - 1], [x, y] = pts[i], [nx, ny] = pts[i + 1];
      const l1 = Math.hypot(x - px, y - py), l2 = Math.hypot(nx - x, ny - y);
      const k = Math.min(r, l1 / 2, l2 / 2);
      const ax = x - ((x - px) / (l1 || 1)) * k, ay = y - ((y - py) / (l1 || 1)) * k;
      const bx = x + ((nx - x) / (l2 || 1)) * k, by = y + ((ny - y) / (l2 || 1)) * k;
      d += ` L${ax},${ay} Q${x},${y} ${bx},${by}`;
    }
    const last = pts[pts.length - 1];
    return d + ` L${last[0]},${last[1]}`;
  }

  // Redraw the wires every frame while ENIs fly.
  let wireFrames = 0;
  function followWires(ms) {
    const until = performance.now() + ms;
    const step = () => { drawWires(); if (performance.now() < until) wireFrames = requestAnimationFrame(step); };
    cancelAnimationFrame(wireFrames);
    step();
  }

  // ---------- moves: FLIP from where an ENI was drawn to where it is ----------
  function rectsOf() {
    const out = new Map();
    for (const el of canvas.querySelectorAll('.eni[data-eni]')) {
      const home = el.closest('[data-instance]');
      out.set(el.dataset.eni, { rect: el.getBoundingClientRect(), home: home ? home.dataset.instance : '' });
    }
    return out;
  }

  // Highlights outlive redraws: ENI id -> {cls, until}.
  const marks = new Map();
  function mark(id, cls, ms) {
    marks.set(id, { cls, until: performance.now() + ms });
    setTimeout(() => {
      const m = marks.get(id);
      if (m && m.until <= performance.now()) {
        marks.delete(id);
        for (const el of canvas.querySelectorAll(`.eni[data-eni="${CSS.escape(id)}"]`)) el.classList.remove(cls);
      }
    }, ms + 20);
  }

  function animate(before, fresh) {
    let flying = false;
    for (const el of canvas.querySelectorAll('.eni[data-eni]')) {
      const id = el.dataset.eni;
      const was = before.get(id);
      const home = el.closest('[data-instance]');
      const now = home ? home.dataset.instance : '';
      if (!was) {
        if (fresh) mark(id, 'fresh', 2500);
      } else if (was.home !== now) {
        const r = el.getBoundingClientRect();
        const dx = was.rect.left - r.left, dy = was.rect.top - r.top;
        el.animate([{ transform: `translate(${dx}px, ${dy}px)` }, { transform: 'translate(0, 0)' }],
          { duration: 900, easing: 'cubic-bezier(.25,.8,.25,1)' });
        mark(id, 'moved', 2600);
        flying = true;
      }
      const m = marks.get(id);
      if (m) el.classList.add(m.cls);
    }
    if (flying) followWires(1000);
  }

  // ---------- activity log (from the difference of two states) ----------
  function logChanges(prev, next) {
    if (!prev) return;
    const out = [];
    const label = (m, inst) => { const i = m.instances.get(inst); const n = i && nameOf(i); return n ? `${n} (${inst})` : inst; };
    const now = Date.now();
    for (const [id, n] of next.enis) {
      const p = prev.enis.get(id);
      const a = n.Attachment && n.Attachment.InstanceId, b = p && p.Attachment && p.Attachment.InstanceId;
      if (!p) { out.push(['', `${id} created in ${n.SubnetId}`]); }
      if (p && a === b) continue;
      if (b && !a) { lastHome.set(id, { instance: b, at: now }); out.push(['', `${id} detached from ${label(prev, b)}`]); }
      if (a) {
        const from = b || (lastHome.get(id) && now - lastHome.get(id).at < 10000 ? lastHome.get(id).instance : '');
        if (from && from !== a) out.push(['move', `${id} moved ${label(prev, from)} → ${label(next, a)} as eth${n.Attachment.DeviceIndex ?? 0}`]);
        else out.push(['', `${id} attached to ${label(next, a)} as eth${n.Attachment.DeviceIndex ?? 0}`]);
        lastHome.set(id, { instance: a, at: now });
      }
    }
    for (const id of prev.enis.keys()) if (!next.enis.has(id)) out.push(['', `${id} deleted`]);
    for (const [id, i] of next.instances) {
      const p = prev.instances.get(id);
      const s = i.State && i.State.Name, ps = p && p.State && p.State.Name;
      if (!p) out.push(['', `${label(next, id)} launched`]);
      else if (s !== ps) out.push(['', `${label(next, id)} ${ps} → ${s}`]);
    }
    for (const [id, a] of next.eips) {
      const p = prev.eips.get(id);
      if (!p) out.push(['', `Elastic IP ${a.PublicIp} allocated`]);
      const was = p && p.AssociationId ? `${p.NetworkInterfaceId}/${p.PrivateIpAddress}` : '';
      const is = a.AssociationId ? `${a.NetworkInterfaceId}/${a.PrivateIpAddress}` : '';
      if (p && was !== is) out.push(['', is ? `Elastic IP ${a.PublicIp} → ${a.PrivateIpAddress} (${a.NetworkInterfaceId})` : `Elastic IP ${a.PublicIp} disassociated`]);
    }
    for (const [id, a] of prev.eips) if (!next.eips.has(id)) out.push(['', `Elastic IP ${a.PublicIp} released`]);
    const t = hhmmss(new Date());
    for (const [cls, text] of out) {
      const li = document.createElement('li');
      if (cls) li.className = cls;
      li.innerHTML = `<time>${t}</time>${esc(text)}`;
      events.prepend(li);
    }
    while (events.children.length > 60) events.lastChild.remove();
  }

  // ---------- details ----------
  function markSelected() {
    for (const el of canvas.querySelectorAll('.selected')) el.classList.remove('selected');
    if (!selected) return;
    const sel = selected.kind === 'eni' ? `.eni[data-eni="${CSS.escape(selected.id)}"]`
      : selected.kind === 'sg' ? `.sgchip[data-sg="${CSS.escape(selected.id)}"]` : null;
    if (sel) for (const el of canvas.querySelectorAll(sel)) el.classList.add('selected');
  }

  function showDetail() {
    if (!selected) {
      detail.innerHTML = '<p class="hint">Click an ENI or a security group for all its attributes and rules; an instance, subnet, VPC, route table, gateway or Elastic IP for its attributes.</p>';
      return;
    }
    const { kind, id } = selected;
    const obj = {
      eni: model.enis, sg: model.sgs, instance: model.instances, subnet: model.subnets, vpc: model.vpcs,
      rtb: model.rtbs, igw: model.igws, eip: model.eips,
    }[kind]?.get(id);
    if (!obj) {
      detail.innerHTML = `<h2>${esc(id)}</h2><p class="gone">No longer exists.</p>`;
      return;
    }
    detail.innerHTML = kind === 'eni' ? eniDetail(obj) : kind === 'sg' ? sgDetail(obj) : genericDetail(kind, id, obj);
    detail.dataset.kind = kind;
    detail.dataset.id = id;
  }

  const row = (k, v) => (v === undefined || v === null || v === '' ? '' : `<tr><th>${esc(k)}</th><td>${v}</td></tr>`);
  const codeOf = (v) => `<code>${esc(v)}</code>`;

  function eniDetail(n) {
    const att = n.Attachment || {};
    const inst = att.InstanceId && model.instances.get(att.InstanceId);
    let html = `<h2>${esc(n.NetworkInterfaceId)}</h2><div class="sub">Network interface${n.Description ? ' · ' + esc(n.Description) : ''}</div><table>`;
    html += row('Status', esc(n.Status));
    html += row('Attached to', att.InstanceId ? `${codeOf(att.InstanceId)}${inst && nameOf(inst) ? ' ' + esc(nameOf(inst)) : ''} as <b>eth${esc(att.DeviceIndex ?? 0)}</b>` : 'nothing');
    if (att.AttachmentId) {
      html += row('Attachment', `${codeOf(att.AttachmentId)} · ${esc(att.Status)} · delete on termination ${att.DeleteOnTermination ? 'yes' : 'no'}`);
    }
    html += row('MAC address', codeOf(n.MacAddress));
    html += row('Subnet', codeOf(n.SubnetId) + ' · ' + esc(n.AvailabilityZone));
    html += row('VPC', codeOf(n.VpcId));
    html += row('Source/dest. check', n.SourceDestCheck === false ? '<b>off</b>' : 'on');
    html += row('Interface type', esc(n.InterfaceType));
    html += row('Requester managed', n.RequesterManaged ? 'yes (' + esc(n.RequesterId) + ')' : 'no');
    html += row('Owner', codeOf(n.OwnerId));
    html += row('Private DNS name', esc(n.PrivateDnsName));
    html += '</table><h3>Private IPv4 addresses</h3><table class="rules"><tr><th>address</th><th>primary</th><th>public IPv4</th></tr>';
    for (const p of n.PrivateIpAddresses || []) {
      const eip = model.eipAt.get(n.NetworkInterfaceId + '/' + p.PrivateIpAddress);
      const pub = p.Association && p.Association.PublicIp;
      html += `<tr><td>${esc(p.PrivateIpAddress)}</td><td>${p.Primary ? 'yes' : ''}</td><td>${pub ? esc(pub) + (eip ? ' (EIP ' + esc(eip.AllocationId) + ')' : ' (auto)') : ''}</td></tr>`;
    }
    html += '</table>';
    const v6 = (n.Ipv6Addresses || []).map((a) => a.Ipv6Address);
    const pf = [...(n.Ipv4Prefixes || []).map((p) => p.Ipv4Prefix), ...(n.Ipv6Prefixes || []).map((p) => p.Ipv6Prefix)];
    if (v6.length) html += `<h3>IPv6 addresses</h3><div>${v6.map(codeOf).join('<br>')}</div>`;
    if (pf.length) html += `<h3>Delegated prefixes</h3><div>${pf.map(codeOf).join('<br>')}</div>`;
    html += `<h3>Security groups</h3><div>${(n.Groups || []).map((g) => `<span class="sgchip" data-sg="${esc(g.GroupId)}">${esc(g.GroupName)} · ${esc(g.GroupId)}</span>`).join(' ') || 'none'}</div>`;
    html += tagsTable(n.TagSet);
    return html + allAttributes(n);
  }

  function sgDetail(g) {
    const rules = model.rules.get(g.GroupId) || [];
    let html = `<h2>${esc(g.GroupName)}</h2><div class="sub">Security group ${codeOf(g.GroupId)}</div><table>`;
    html += row('Description', esc(g.Description));
    html += row('VPC', codeOf(g.VpcId));
    html += row('Owner', codeOf(g.OwnerId));
    html += '</table>';
    for (const [title, egress] of [['Inbound rules', false], ['Outbound rules', true]]) {
      const list = rules.filter((r) => !!r.IsEgress === egress);
      html += `<h3>${title} (${list.length})</h3>`;
      if (!list.length) { html += '<div class="muted">none</div>'; continue; }
      html += `<table class="rules"><tr><th>protocol</th><th>ports</th><th>${egress ? 'destination' : 'source'}</th><th>rule</th></tr>`;
      for (const r of list) {
        html += `<tr><td>${esc(proto(r.IpProtocol))}</td><td>${esc(ports(r))}</td><td>${esc(peer(r))}</td><td title="${esc(r.Description)}">${esc(r.SecurityGroupRuleId)}${r.Description ? '<br><span class="muted">' + esc(r.Description) + '</span>' : ''}</td></tr>`;
      }
      html += '</table>';
    }
    const users = model.sgUsers.get(g.GroupId) || [];
    html += `<h3>Network interfaces (${users.length})</h3><div>${users.map((n) => `<code class="link" data-eni-link="${esc(n.NetworkInterfaceId)}">${esc(n.NetworkInterfaceId)}</code>`).join(' ') || 'none'}</div>`;
    html += tagsTable(g.Tags);
    return html + allAttributes(g);
  }

  const proto = (p) => ({ '-1': 'all', 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmpv6' }[p] || p);
  function ports(r) {
    if (r.IpProtocol === '-1') return 'all';
    if (r.FromPort === undefined || r.FromPort === null || r.FromPort === -1) return 'all';
    if (/^(icmp|icmpv6|1|58)$/.test(r.IpProtocol)) return `type ${r.FromPort}${r.ToPort !== -1 ? ' code ' + r.ToPort : ''}`;
    return r.FromPort === r.ToPort ? String(r.FromPort) : `${r.FromPort}–${r.ToPort}`;
  }
  function peer(r) {
    if (r.CidrIpv4) return r.CidrIpv4;
    if (r.CidrIpv6) return r.CidrIpv6;
    if (r.PrefixListId) return r.PrefixListId;
    const g = r.ReferencedGroupInfo;
    if (g) { const sg = model.sgs.get(g.GroupId); return `${g.GroupId}${sg ? ' (' + sg.GroupName + ')' : ''}`; }
    return '';
  }

  function genericDetail(kind, id, obj) {
    const titles = { instance: 'Instance', subnet: 'Subnet', vpc: 'VPC', rtb: 'Route table', igw: 'Internet gateway', eip: 'Elastic IP' };
    const name = nameOf(obj);
    return `<h2>${esc(name || id)}</h2><div class="sub">${titles[kind]}${name ? ' ' + codeOf(id) : ''}</div>` +
      tagsTable(obj.Tags || obj.TagSet) + allAttributes(obj, true);
  }

  function tagsTable(list) {
    if (!list || !list.length) return '';
    return '<h3>Tags</h3><table>' + list.map((t) => row(t.Key, esc(t.Value))).join('') + '</table>';
  }

  // Every attribute the API shows, flattened to paths (nulls left out).
  function allAttributes(obj, open) {
    const rows = [];
    const walk = (v, path) => {
      if (v === null || v === undefined) return;
      if (Array.isArray(v)) { v.forEach((x, i) => walk(x, `${path}[${i}]`)); return; }
      if (typeof v === 'object') { for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k); return; }
      rows.push([path, v]);
    };
    walk(obj, '');
    if (attrsOpen !== null) open = attrsOpen;
    return `<details${open ? ' open' : ''} class="all"><summary>All attributes (${rows.length}), as Describe shows them</summary>` +
      `<table class="attrs">${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table></details>`;
  }

  // ---------- loading ----------
  class HTTPError extends Error { constructor(status, msg) { super(msg); this.status = status; } }

  async function load() {
    const q = new URLSearchParams();
    if (view.region) q.set('region', view.region);
    if (view.account) q.set('account', view.account);
    if (view.vpc) q.set('vpc', view.vpc);
    const r = await fetch('/console/api/state?' + q, { cache: 'no-store', credentials: 'same-origin' });
    const body = await r.json().catch(() => ({ error: r.statusText }));
    if (!r.ok) throw new HTTPError(r.status, body.error || r.statusText);
    return body;
  }

  let inflight = false, again = false, generation = 0;
  async function refresh() {
    if (inflight) { again = true; return; }
    inflight = true;
    try {
      do {
        again = false;
        apply(await load());
      } while (again);
      setBanner(state.omitted || '');
    } catch (err) {
      setBanner(err.status === 401 ? err.message : 'Cannot load the state: ' + err.message, true);
      // The server reloading its model (503) or unreachable: try again, as
      // no change event may come to say it is back.
      if (err.status !== 401 && err.status !== 400) setTimeout(refresh, 2000);
    } finally {
      inflight = false;
    }
  }

  // ---------- costing money now ----------
  // state.billed: the public IPv4 addresses billed now (core.BilledNow), each
  // with its usage type and cost so far; the cost runs on, at each address's
  // rate, from when the state was received until the next one.
  let billedAt = 0;
  function drawBilled(st) {
    const list = st.billed || [];
    billedAt = Date.now();
    if (!list.length) {
      billed.innerHTML = '<tr><td class="muted">No public IPv4 address is billed in this region.</td></tr>';
      $('#billing-rate').textContent = '';
      return;
    }
    const perHour = list.reduce((s, b) => s + b.rate, 0);
    $('#billing-rate').textContent = `· $${perHour.toFixed(3)}/h`;
    billed.innerHTML = '<tr><th>address · usage type</th><th>state · on</th><th class="cost">cost so far</th></tr>' + list.map((b) => {
      const idle = b.usageType.endsWith(':IdleAddress');
      const on = b.instanceId || b.eniId || 'nothing';
      const title = `since ${b.since} at $${b.rate}/h` + (b.allocationId ? ` · ${b.allocationId}` : ' · auto-assigned');
      return `<tr class="${idle ? 'idle' : 'inuse'}" data-billed-ip="${esc(b.publicIp)}" title="${esc(title)}">` +
        `<td><code>${esc(b.publicIp)}</code>${b.allocationId ? ' <span class="tag">EIP</span>' : ''}<div class="ut">${esc(b.usageType)}</div></td>` +
        `<td>${idle ? '<b>idle</b>' : 'in use'}<div class="ut">${esc(on)}</div></td>` +
        `<td class="cost" data-cost="${b.costSoFar}" data-rate="${b.rate}">$${b.costSoFar.toFixed(6)}</td></tr>`;
    }).join('');
  }
  setInterval(() => {
    const h = (Date.now() - billedAt) / 3.6e6;
    for (const td of billed.querySelectorAll('td.cost')) td.textContent = '$' + (+td.dataset.cost + h * +td.dataset.rate).toFixed(6);
  }, 1000);

  let lastJSON = '';
  function apply(st) {
    drawBilled(st);
    // The same picture again (a hello after a reconnection, a change of
    // nothing the page shows): keep the DOM, and what the user is pointing at.
    const json = JSON.stringify([st.region, st.account, st.vpc, st.regions, st.accounts, st.ec2, st.subnets, st.omitted]);
    if (json === lastJSON) return;
    lastJSON = json;
    const prev = model;
    const before = prev ? rectsOf() : new Map();
    const sameView = state && st.region === state.region && st.account === state.account && st.vpc === state.vpc;
    state = st;
    model = index(st);
    view.region = st.region;
    view.account = st.account;
    if (view.vpc && !model.vpcs.has(view.vpc)) { view.vpc = ''; again = true; } // gone: draw them all
    fillSelects();
    draw();
    if (sameView) { logChanges(prev, model); animate(before, true); }
    drawWires();
    showDetail();
    writeHash();
    generation++;
    document.body.dataset.generation = generation; // for tests and curious people
  }

  function fillSelects() {
    const opts = (el, items, cur, label) => {
      const list = items.includes(cur) || !cur ? items : [cur, ...items];
      el.innerHTML = list.map((x) => `<option value="${esc(x)}"${x === cur ? ' selected' : ''}>${esc(label ? label(x) : x)}</option>`).join('');
    };
    opts($('#region'), state.regions || [], state.region);
    opts($('#account'), state.accounts || [], state.account);
    const vpcs = [...model.vpcs.values()].sort(byKey((v) => v.VpcId));
    $('#vpc').innerHTML = '<option value="">all</option>' + vpcs.map((v) =>
      `<option value="${esc(v.VpcId)}"${v.VpcId === view.vpc ? ' selected' : ''}>${esc(v.VpcId)}${nameOf(v) ? ' · ' + esc(nameOf(v)) : v.IsDefault ? ' · default' : ''}</option>`).join('');
  }

  function setBanner(text, error) {
    banner.hidden = !text;
    banner.textContent = text;
    banner.className = error ? 'error' : '';
  }

  function readHash() {
    const h = new URLSearchParams(location.hash.slice(1));
    view.region = h.get('region') || '';
    view.account = h.get('account') || '';
    view.vpc = h.get('vpc') || '';
  }

  function writeHash() {
    const h = new URLSearchParams();
    if (view.region) h.set('region', view.region);
    if (view.account) h.set('account', view.account);
    if (view.vpc) h.set('vpc', view.vpc);
    const s = '#' + h;
    if (location.hash !== s) history.replaceState(null, '', s);
  }

  // ---------- live updates ----------
  function connect() {
    const es = new EventSource('/console/api/events');
    es.addEventListener('open', () => setLive('on', 'live'));
    es.addEventListener('error', () => setLive('off', 'reconnecting'));
    es.addEventListener('hello', () => refresh()); // after every (re)connection: catch up
    es.addEventListener('change', (ev) => {
      let regions = [];
      try { regions = JSON.parse(ev.data).regions || []; } catch { /* keep [] */ }
      if (!state || regions.includes(state.region)) {
        live.classList.add('flash');
        setTimeout(() => live.classList.remove('flash'), 300);
        refresh();
      }
    });
  }

  function setLive(cls, text) {
    live.className = 'live ' + cls;
    $('.text', live).textContent = text;
  }

  // ---------- interaction ----------
  function select(kind, id) {
    selected = { kind, id };
    markSelected();
    showDetail();
  }

  canvas.addEventListener('click', (ev) => {
    const sg = ev.target.closest('[data-sg]');
    if (sg) { ev.preventDefault(); select('sg', sg.dataset.sg); return; }
    const eni = ev.target.closest('[data-eni]');
    if (eni) { select('eni', eni.dataset.eni); return; }
    const other = ev.target.closest('[data-kind]');
    if (other) {
      if (other.tagName === 'SUMMARY') {
        const vpc = other.parentElement;
        userOpen.set(other.dataset.id, !vpc.open);
        if (!vpc.querySelector('.vpc-body')) { ev.preventDefault(); draw(); drawWires(); }
      }
      select(other.dataset.kind, other.dataset.id);
    }
  });
  canvas.addEventListener('toggle', () => drawWires(), true);
  canvas.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    const sg = ev.target.closest('[data-sg]');
    const eni = ev.target.closest('[data-eni]');
    if (sg) { ev.preventDefault(); select('sg', sg.dataset.sg); } else if (eni) { ev.preventDefault(); select('eni', eni.dataset.eni); }
  });
  // "All attributes" stays as the user left it across redraws (a click on
  // its summary: a toggle event also comes with every redraw).
  detail.addEventListener('click', (ev) => {
    const sum = ev.target.closest('details.all > summary');
    if (sum) attrsOpen = !sum.parentElement.open;
  }, true);
  detail.addEventListener('click', (ev) => {
    const sg = ev.target.closest('[data-sg]');
    if (sg) { select('sg', sg.dataset.sg); return; }
    const eni = ev.target.closest('[data-eni-link]');
    if (eni) select('eni', eni.dataset.eniLink);
  });
  $('#region').addEventListener('change', (ev) => { view.region = ev.target.value; view.account = ''; view.vpc = ''; selected = null; refresh(); });
  $('#account').addEventListener('change', (ev) => { view.account = ev.target.value; view.vpc = ''; selected = null; refresh(); });
  $('#vpc').addEventListener('change', (ev) => { view.vpc = ev.target.value; refresh(); });
  window.addEventListener('resize', () => drawWires());
  window.addEventListener('hashchange', () => {
    const before = { ...view };
    readHash();
    if (before.region !== view.region || before.account !== view.account || before.vpc !== view.vpc) refresh();
  });

  readHash();
  showDetail();
  refresh();
  connect();
})();
