// Bouncy Castle as a peer in bench:verify (scripts/bench-verify.ts): verifies every *.p7s of a
// folder in ONE JVM with the checks of test/fixtures/crypto/bouncycastle/VerifyCadesT.java
// (compiled with it, against the Debian jars of libbcpkix-java): DER, signed attributes, the
// CMS signature, the signature time-stamp token (TimeStampToken.validate, imprint over the
// signature value) and the PKIX paths of the signer and of the TSA to the root, built for
// each proof (Bouncy Castle caches nothing across proofs).
//
//   java -cp bcprov.jar:bcutil.jar:bcpkix.jar:DIR BenchVerifyBc --root ROOT.pem --threads N --limit L FOLDER
//
// It takes the first L proofs of the folder in name order. First a warm-up pass over them (class loading, JIT; each must pass), then "ready"; then
// for each line "round" on standard input one timed pass — read each file, verify it — on N
// threads, answered by "round PROOFS SECONDS"; "quit" (or end of input) exits.
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.Security;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.bouncycastle.jce.provider.BouncyCastleProvider;

public class BenchVerifyBc {
    /** Verifies every proof on `threads` threads; returns the seconds it took, or throws on the first failure. */
    static double pass(List<Path> proofs, X509Certificate root, int threads) throws Exception {
        AtomicInteger next = new AtomicInteger();
        Exception[] failure = new Exception[1];
        Thread[] workers = new Thread[threads];
        long t0 = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            workers[t] = new Thread(() -> {
                for (int i = next.getAndIncrement(); i < proofs.size() && failure[0] == null; i = next.getAndIncrement()) {
                    try {
                        VerifyCadesT.verify(Files.readAllBytes(proofs.get(i)), root);
                    } catch (Exception e) {
                        synchronized (failure) {
                            if (failure[0] == null) failure[0] = new Exception(proofs.get(i) + ": " + e.getMessage(), e);
                        }
                    }
                }
            });
            workers[t].start();
        }
        for (Thread w : workers) w.join();
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (failure[0] != null) throw failure[0];
        return seconds;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 7 || !args[0].equals("--root") || !args[2].equals("--threads") || !args[4].equals("--limit")) {
            System.err.println("usage: BenchVerifyBc --root ROOT.pem --threads N --limit L FOLDER");
            System.exit(2);
        }
        Security.addProvider(new BouncyCastleProvider());
        X509Certificate root = (X509Certificate) CertificateFactory.getInstance("X.509", "BC").generateCertificate(new ByteArrayInputStream(Files.readAllBytes(Paths.get(args[1]))));
        int threads = Integer.parseInt(args[3]);
        List<Path> proofs;
        try (Stream<Path> walk = Files.walk(Paths.get(args[6]))) {
            proofs = walk.filter(p -> p.toString().endsWith(".p7s")).sorted().limit(Long.parseLong(args[5])).collect(Collectors.toList());
        }
        double warm = pass(proofs, root, threads);
        System.out.println("ready " + proofs.size() + " " + warm);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        for (String line = in.readLine(); line != null && !line.equals("quit"); line = in.readLine()) {
            if (!line.equals("round")) continue;
            System.out.println("round " + proofs.size() + " " + pass(proofs, root, threads));
        }
    }
}
