// The dev IdP's storage: oidc-provider's adapter interface over one in-process Map, without the 1,000-entry limit of
// the provider's quick-start adapter (an LRU cache: under load it silently evicted live refresh tokens, which then
// answered "refresh token not found"). Entries expire with their model's lifetime; a sweep drops expired ones.

const store = new Map(); // key → { value, expiresAt (ms) | undefined }

const grantKeyFor = (id) => `grant:${id}`;
const sessionUidKeyFor = (id) => `sessionUid:${id}`;
const userCodeKeyFor = (code) => `userCode:${code}`;
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

const get = (key) => {
  const entry = store.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.value;
};

const set = (key, value, expiresInSecs) => {
  const expiresAt = expiresInSecs ? Date.now() + expiresInSecs * 1000 : undefined;
  store.set(key, { value, expiresAt });
};

// Expired entries go every minute (the timer does not keep the process alive).
setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of store) {
    if (entry.expiresAt !== undefined && entry.expiresAt <= now) store.delete(key);
  }
}, 60_000).unref();

export class MemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session') set(sessionUidKeyFor(payload.uid), id, expiresIn);
    const { grantId, userCode } = payload;
    if (GRANTABLE.has(this.model) && grantId) {
      const grantKey = grantKeyFor(grantId);
      const grant = get(grantKey);
      if (grant) grant.push(key);
      else set(grantKey, [key]);
    }
    if (userCode) set(userCodeKeyFor(userCode), id, expiresIn);
    set(key, payload, expiresIn);
  }

  async find(id) {
    return get(this.key(id));
  }

  async findByUid(uid) {
    const id = get(sessionUidKeyFor(uid));
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = get(userCodeKeyFor(userCode));
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const value = get(this.key(id));
    if (value) value.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const grantKey = grantKeyFor(grantId);
    for (const key of get(grantKey) ?? []) store.delete(key);
    store.delete(grantKey);
  }
}
