/**
 * The REST API keys and key groups a person makes in the Configuration console
 * (Configure > Security Controls > API Keys). Nothing in the API can make or change one.
 */
import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { ROLES } from "./businessObjects";
import { echo } from "./reply";
import type { AddIvantiKeyOptions, IvantiKeyPatch, IvantiKeyRecord } from "./types";

const MAX_KEYS = 1000;
const MAX_GROUPS = 100;
const MAX_IPS = 50;
const TENANT = /^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/i;

export function checkTenant(tenant: string): void {
  if (!TENANT.test(tenant)) throw new Error("tenant must be a host name");
}

function checkIps(ips: string[]): string[] {
  if (ips.length > MAX_IPS) throw new Error(`at most ${MAX_IPS} IP addresses per key`);
  for (const ip of ips) if (isIP(ip) === 0) throw new Error(`not an IP address: ${echo(ip)}`);
  return [...ips];
}

function checkRole(role: string): void {
  if (!(role in ROLES)) throw new Error(`unknown role ${echo(role)}`);
}

/** A copy, so that a caller's changes never reach the stored key. */
function copyOf(k: IvantiKeyRecord): IvantiKeyRecord {
  return { ...k, ipList: [...k.ipList] };
}

export class KeyStore {
  private readonly keys = new Map<string, IvantiKeyRecord>();
  private readonly groups = new Map<string, string>();

  /** `tenant`: the tenant a key is made in unless it names another. */
  constructor(private readonly tenant: string) {}

  /** The stored key itself, for the request pipeline. */
  get(referenceId: string): IvantiKeyRecord | undefined {
    return this.keys.get(referenceId);
  }

  addGroup(name: string, description = ""): void {
    if (!/^[\w .-]{1,100}$/.test(name)) throw new Error("group names are 1..100 word characters, spaces, dots or dashes");
    if (!this.groups.has(name) && this.groups.size >= MAX_GROUPS) throw new Error("key group limit reached");
    this.groups.set(name, description.slice(0, 500));
  }

  groupList(): { name: string; description: string }[] {
    return [...this.groups.entries()].map(([name, description]) => ({ name, description }));
  }

  add(o: AddIvantiKeyOptions): IvantiKeyRecord {
    if (this.keys.size >= MAX_KEYS) throw new Error("key limit reached");
    const role = o.role ?? "Admin";
    checkRole(role);
    const keyTenant = o.tenant ?? this.tenant;
    checkTenant(keyTenant);
    const group = o.group ?? "REST API";
    if (!this.groups.has(group)) this.addGroup(group);
    const rec: IvantiKeyRecord = {
      referenceId: randomBytes(16).toString("hex").toUpperCase(),
      group,
      activated: o.activated ?? true,
      description: (o.description ?? "").slice(0, 500),
      onBehalfOf: o.onBehalfOf ?? "InternalServices",
      role,
      tenant: keyTenant,
      ipList: checkIps(o.ipList ?? []),
    };
    this.keys.set(rec.referenceId, rec);
    return copyOf(rec);
  }

  edit(referenceId: string, patch: IvantiKeyPatch): IvantiKeyRecord {
    const k = this.mustGet(referenceId);
    if (patch.role !== undefined) checkRole(patch.role);
    if (patch.tenant !== undefined) checkTenant(patch.tenant);
    const ipList = patch.ipList !== undefined ? checkIps(patch.ipList) : k.ipList;
    Object.assign(k, patch, { ipList });
    return copyOf(k);
  }

  delete(referenceId: string): void {
    this.mustGet(referenceId);
    this.keys.delete(referenceId);
  }

  list(): IvantiKeyRecord[] {
    return [...this.keys.values()].map(copyOf);
  }

  clear(): void {
    this.keys.clear();
    this.groups.clear();
  }

  private mustGet(referenceId: string): IvantiKeyRecord {
    const k = this.keys.get(referenceId);
    if (!k) throw new Error("no such key");
    return k;
  }
}
