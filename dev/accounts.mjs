// The dev users. `sub` is stable per user (derived from nothing that changes between runs).

const USERS = [
  {
    sub: 'b7c1b2c4-alice-0001', username: 'alice', password: 'alice', name: 'Alice Example', email: 'alice@example.test',
  },
  {
    sub: 'b7c1b2c4-bob-0002', username: 'bob', password: 'bob', name: 'Bob Example', email: 'bob@example.test',
  },
];

const bySub = new Map(USERS.map((u) => [u.sub, u]));
const byUsername = new Map(USERS.map((u) => [u.username, u]));

/** Public list for banners: username/password pairs. */
export const testUsers = USERS.map(({ username, password, name }) => ({ username, password, name }));

/** Returns the user with that username, or undefined. */
export const findUserByUsername = (username) => byUsername.get(String(username));

/** Returns the user with that sub, or undefined. */
export const findUserBySub = (sub) => bySub.get(String(sub));

/** Checks a username/password pair; returns the user or undefined. */
export const authenticate = (username, password) => {
  const user = byUsername.get(String(username ?? ''));
  return user && user.password === String(password ?? '') ? user : undefined;
};

/** oidc-provider `findAccount`. */
export const findAccount = async (ctx, sub) => {
  const user = bySub.get(sub);
  if (!user) return undefined;
  return {
    accountId: user.sub,
    async claims() {
      return {
        sub: user.sub,
        name: user.name,
        email: user.email,
        email_verified: true,
      };
    },
  };
};
