package dev.tokenguard.budget.store;

import dev.tokenguard.config.StoreAddress;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * Shared budgets in Redis. Each budget's scope instance and window is a hash ({@code u0..u3}: usage per dimension,
 * {@code r0..r3}: reserved by calls in flight, {@code w<t>}: threshold {@code t} warned) and a sorted set of the
 * reservations in flight (member {@code <id>|<amounts>}, score: when it lapses, so a JVM that died mid-call gives its
 * reservation back by itself). Admission and settlement are one Lua script each, so every decision is atomic on the
 * server: a threshold is reported by the one charge that crossed it ({@code HSETNX}).
 *
 * <p>Connections: one per concurrently calling thread at most, kept for reuse; a connection that failed is closed,
 * never reused (its reply stream may be out of step).
 */
final class RedisBudgetStore implements BudgetStore {
    private static final String UNRESERVE = """
            local function unreserve(h, m)
              local d = 0
              for a in string.gmatch(m, '|(%d+)') do
                local n = tonumber(a)
                if n > 0 then redis.call('HINCRBY', h, 'r' .. d, -n) end
                d = d + 1
              end
            end
            """;

    /**
     * KEYS: hash, zset per entry. ARGV: n, now, member ({@code <id>|a0|a1|a2|a3}), expiresAt, force, then per entry 4
     * limits and a ttl, then the 4 amounts.
     */
    private static final String ADMIT = UNRESERVE + """
            local n = tonumber(ARGV[1])
            local now = tonumber(ARGV[2])
            local force = ARGV[5] == '1'
            local amounts = {}
            for d = 0, 3 do amounts[d] = tonumber(ARGV[6 + n * 5 + d]) end
            local blocked = nil
            local used = {}
            for i = 1, n do
              local h, z = KEYS[2 * i - 1], KEYS[2 * i]
              local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
              for _, m in ipairs(expired) do unreserve(h, m) end
              if #expired > 0 then redis.call('ZREMRANGEBYSCORE', z, '-inf', now) end
              local v = redis.call('HMGET', h, 'u0', 'u1', 'u2', 'u3', 'r0', 'r1', 'r2', 'r3')
              local base = 5 + (i - 1) * 5
              for d = 0, 3 do
                local limit = tonumber(ARGV[base + 1 + d])
                local u = tonumber(v[d + 1] or '0')
                local r = tonumber(v[d + 5] or '0')
                table.insert(used, u)
                if limit >= 0 then
                  if u >= limit then return {1, i - 1, d, u} end
                  if not force and blocked == nil and u + r >= limit then blocked = {2, i - 1, d, u} end
                end
              end
            end
            if blocked ~= nil then return blocked end
            local member = ARGV[3]
            for i = 1, n do
              local h, z = KEYS[2 * i - 1], KEYS[2 * i]
              redis.call('ZADD', z, ARGV[4], member)
              for d = 0, 3 do
                if amounts[d] > 0 then redis.call('HINCRBY', h, 'r' .. d, amounts[d]) end
              end
              local ttl = tonumber(ARGV[5 + i * 5])
              if ttl > 0 then
                redis.call('PEXPIRE', h, ttl)
                redis.call('PEXPIRE', z, ttl)
              end
            end
            return {0, -1, -1, 0, used}
            """;

    /**
     * KEYS: hash, zset per entry. ARGV: n, member ('' for none), 4 usage amounts, then per entry ttl, thresholds t,
     * t x 4 points.
     */
    private static final String SETTLE = UNRESERVE + """
            local n = tonumber(ARGV[1])
            local member = ARGV[2]
            local out = {}
            local pos = 7
            for i = 1, n do
              local h, z = KEYS[2 * i - 1], KEYS[2 * i]
              if member ~= '' and redis.call('ZREM', z, member) == 1 then unreserve(h, member) end
              local before, after = {}, {}
              for d = 0, 3 do
                local a = tonumber(ARGV[3 + d])
                local now = redis.call('HINCRBY', h, 'u' .. d, a)
                after[d] = now
                before[d] = now - a
              end
              local ttl = tonumber(ARGV[pos])
              if ttl > 0 then
                redis.call('PEXPIRE', h, ttl)
                redis.call('PEXPIRE', z, ttl)
              end
              local nt = tonumber(ARGV[pos + 1])
              pos = pos + 2
              local crossed = {}
              for t = 1, nt do
                for d = 0, 3 do
                  local p = tonumber(ARGV[pos + (t - 1) * 4 + d])
                  if p >= 0 and before[d] < p and p <= after[d] then
                    if redis.call('HSETNX', h, 'w' .. t, '1') == 1 then
                      table.insert(crossed, t - 1)
                      table.insert(crossed, d)
                    end
                    break
                  end
                end
              end
              pos = pos + nt * 4
              out[i] = {after[0], after[1], after[2], after[3], crossed}
            end
            return out
            """;

    /** KEYS: hash, zset per entry. ARGV: member. */
    private static final String RELEASE = UNRESERVE + """
            for i = 1, #KEYS / 2 do
              local h, z = KEYS[2 * i - 1], KEYS[2 * i]
              if redis.call('ZREM', z, ARGV[1]) == 1 then unreserve(h, ARGV[1]) end
            end
            return 0
            """;

    /** KEYS: hash per entry. Returns the 4 usage figures of each, flat. */
    private static final String READ = """
            local out = {}
            for i = 1, #KEYS do
              local v = redis.call('HMGET', KEYS[i], 'u0', 'u1', 'u2', 'u3')
              for d = 1, 4 do table.insert(out, tonumber(v[d] or '0')) end
            end
            return out
            """;

    private static final String ADMIT_SHA = sha1(ADMIT);
    private static final String SETTLE_SHA = sha1(SETTLE);
    private static final String RELEASE_SHA = sha1(RELEASE);
    private static final String READ_SHA = sha1(READ);
    private static final int MAX_IDLE = 64;

    private final StoreAddress address;
    private final int timeoutMillis;
    private final SSLSocketFactory tls;
    /** Why the CA file could not be made a trust set (each connection attempt fails with it); null when it could. */
    private final IOException tlsProblem;
    private final ConcurrentLinkedDeque<RespConnection> idle = new ConcurrentLinkedDeque<>();
    private volatile boolean closed;

    RedisBudgetStore(StoreAddress address, int timeoutMillis) {
        this(address, null, timeoutMillis);
    }

    /** @param caFile the CA certificates a {@code rediss://} server's certificate must chain to; null: the JVM's */
    RedisBudgetStore(StoreAddress address, Path caFile, int timeoutMillis) {
        this.address = address;
        this.timeoutMillis = timeoutMillis;
        SSLSocketFactory sockets = null;
        IOException problem = null;
        if (address.tls()) {
            try {
                sockets = tlsSockets(caFile);
            } catch (IOException e) {
                problem = e;
            }
        }
        this.tls = sockets;
        this.tlsProblem = problem;
    }

    /**
     * The JVM's default TLS sockets (its trust store: {@code javax.net.ssl.trustStore}, else the JDK's CAs), or
     * sockets that trust exactly the certificates of {@code caFile}.
     */
    static SSLSocketFactory tlsSockets(Path caFile) throws IOException {
        if (caFile == null) {
            return (SSLSocketFactory) SSLSocketFactory.getDefault();
        }
        try (InputStream in = Files.newInputStream(caFile)) {
            KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            int n = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trusted.setCertificateEntry("ca-" + n++, c);
            }
            if (n == 0) {
                throw new IOException("tokenguard.store.tls.ca-file " + caFile + " holds no certificate");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IOException("tokenguard.store.tls.ca-file " + caFile + " cannot be used: " + e.getMessage(), e);
        }
    }

    @Override
    public Decision admit(List<Entry> entries, long[] amounts, String member, long nowMillis, long expiresAtMillis,
                          boolean force) throws IOException {
        int n = entries.size();
        List<String> args = new ArrayList<>(1 + 2 * n + 5 + 5 * n + 4);
        args.add(Integer.toString(n * 2));
        for (Entry e : entries) {
            args.add(e.key());
            args.add(e.key() + ":inflight");
        }
        args.add(Integer.toString(n));
        args.add(Long.toString(nowMillis));
        args.add(member);
        args.add(Long.toString(expiresAtMillis));
        args.add(force ? "1" : "0");
        for (Entry e : entries) {
            for (long l : e.limits()) {
                args.add(Long.toString(l));
            }
            args.add(Long.toString(e.ttlMillis()));
        }
        for (long a : amounts) {
            args.add(Long.toString(a));
        }
        List<?> reply = (List<?>) eval(ADMIT_SHA, ADMIT, args);
        int status = ((Long) reply.get(0)).intValue();
        long[][] used = new long[n][DIMENSIONS];
        if (status == Decision.ADMITTED) {
            List<?> u = (List<?>) reply.get(4);
            for (int i = 0; i < n; i++) {
                for (int d = 0; d < DIMENSIONS; d++) {
                    used[i][d] = (Long) u.get(i * DIMENSIONS + d);
                }
            }
            return new Decision(status, -1, -1, used);
        }
        int entry = ((Long) reply.get(1)).intValue();
        int dimension = ((Long) reply.get(2)).intValue();
        used[entry][dimension] = (Long) reply.get(3);
        return new Decision(status, entry, dimension, used);
    }

    @Override
    public Settlement settle(List<Entry> entries, long[] usage, String member) throws IOException {
        int n = entries.size();
        List<String> args = new ArrayList<>();
        args.add(Integer.toString(n * 2));
        for (Entry e : entries) {
            args.add(e.key());
            args.add(e.key() + ":inflight");
        }
        args.add(Integer.toString(n));
        args.add(member == null ? "" : member);
        for (long a : usage) {
            args.add(Long.toString(a));
        }
        for (Entry e : entries) {
            args.add(Long.toString(e.ttlMillis()));
            args.add(Integer.toString(e.points().length));
            for (long[] p : e.points()) {
                for (long v : p) {
                    args.add(Long.toString(v));
                }
            }
        }
        List<?> reply = (List<?>) eval(SETTLE_SHA, SETTLE, args);
        long[][] used = new long[n][DIMENSIONS];
        int[][] crossed = new int[n][];
        for (int i = 0; i < n; i++) {
            List<?> row = (List<?>) reply.get(i);
            for (int d = 0; d < DIMENSIONS; d++) {
                used[i][d] = (Long) row.get(d);
            }
            List<?> c = (List<?>) row.get(DIMENSIONS);
            crossed[i] = new int[c.size()];
            for (int k = 0; k < c.size(); k++) {
                crossed[i][k] = ((Long) c.get(k)).intValue();
            }
        }
        return new Settlement(used, crossed);
    }

    @Override
    public void release(List<String> keys, String member) throws IOException {
        List<String> args = new ArrayList<>();
        args.add(Integer.toString(keys.size() * 2));
        for (String k : keys) {
            args.add(k);
            args.add(k + ":inflight");
        }
        args.add(member);
        eval(RELEASE_SHA, RELEASE, args);
    }

    @Override
    public long[][] read(List<String> keys) throws IOException {
        List<String> args = new ArrayList<>(keys.size() + 1);
        args.add(Integer.toString(keys.size()));
        args.addAll(keys);
        List<?> reply = (List<?>) eval(READ_SHA, READ, args);
        long[][] used = new long[keys.size()][DIMENSIONS];
        for (int i = 0; i < keys.size(); i++) {
            for (int d = 0; d < DIMENSIONS; d++) {
                used[i][d] = (Long) reply.get(i * DIMENSIONS + d);
            }
        }
        return used;
    }

    @Override
    public void ping() throws IOException {
        RespConnection c = borrow();
        try {
            c.call("PING");
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        giveBack(c);
    }

    /** {@code EVALSHA}, and {@code EVAL} once when the server does not hold the script yet. */
    private Object eval(String sha, String script, List<String> keysAndArgs) throws IOException {
        RespConnection c = borrow();
        try {
            String[] command = new String[keysAndArgs.size() + 2];
            command[0] = "EVALSHA";
            command[1] = sha;
            for (int i = 0; i < keysAndArgs.size(); i++) {
                command[i + 2] = keysAndArgs.get(i);
            }
            Object reply;
            try {
                reply = c.call(command);
            } catch (RespConnection.ServerError e) {
                if (!e.code().equals("NOSCRIPT")) {
                    throw e;
                }
                command[0] = "EVAL";
                command[1] = script;
                reply = c.call(command);
            }
            giveBack(c);
            return reply;
        } catch (RespConnection.ServerError e) {
            giveBack(c); // the exchange completed: the connection is still in step
            throw e;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private RespConnection borrow() throws IOException {
        RespConnection c = idle.pollFirst();
        if (c != null) {
            return c;
        }
        if (tlsProblem != null) {
            throw tlsProblem;
        }
        return RespConnection.open(address, tls, timeoutMillis);
    }

    private void giveBack(RespConnection c) {
        if (closed || idle.size() >= MAX_IDLE) {
            c.close();
            return;
        }
        idle.addFirst(c);
        if (closed) {
            dropAll();
        }
    }

    /** Closes the idle connections (after a failure: they may point at a server that went away). */
    void dropAll() {
        for (RespConnection c; (c = idle.pollFirst()) != null; ) {
            c.close();
        }
    }

    @Override
    public void close() {
        closed = true;
        dropAll();
    }

    @Override
    public String toString() {
        return address.toString();
    }

    private static String sha1(String script) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-1").digest(script.getBytes(StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder(40);
            for (byte b : d) {
                sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
