// IndexedDB on this phone: the outbox of writes not yet on the server, and a
// cache of what the server last said (so the diary opens offline).
// Used by the pages and by the service worker.

const DB_NAME = "cramptrack";
const DB_VERSION = 1;
let opening = null;

export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "id" });
        if (!db.objectStoreNames.contains("cache")) db.createObjectStore("cache");
      };
      request.onsuccess = () => {
        const db = request.result;
        // Another tab upgrading the schema: step aside instead of blocking it.
        db.onversionchange = () => {
          db.close();
          opening = null;
        };
        resolve(db);
      };
      request.onerror = () => {
        opening = null;
        reject(request.error);
      };
    });
  }
  return opening;
}

export function req(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function finished(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
}

// Run `work(store)` in one transaction and resolve once it is committed: to disk
// for the outbox (a "Saved" the phone loses in a crash would be a lie), lazily
// for the cache, which the server can always refill.
// `work` may await req(...) calls, but nothing else, or the transaction closes.
export async function transact(storeName, mode, work) {
  const db = await openDb();
  const tx = db.transaction(storeName, mode, { durability: storeName === "outbox" ? "strict" : "relaxed" });
  const done = finished(tx);
  let value;
  try {
    value = await work(tx.objectStore(storeName));
  } catch (error) {
    try {
      tx.abort();
    } catch {
      // already finished
    }
    await done.catch(() => {});
    throw error;
  }
  await done;
  return value;
}

export function readAll(storeName) {
  return transact(storeName, "readonly", (store) => req(store.getAll()));
}

export function cacheGet(key) {
  return transact("cache", "readonly", (store) => req(store.get(key)));
}

export function cachePut(key, value) {
  return transact("cache", "readwrite", (store) => req(store.put(value, key)));
}

export function cacheClear() {
  return transact("cache", "readwrite", (store) => req(store.clear()));
}
