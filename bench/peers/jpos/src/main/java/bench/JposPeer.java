package bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.jpos.iso.ISOMsg;
import org.jpos.iso.ISOUtil;
import org.jpos.iso.packager.GenericPackager;

/**
 * The jPOS peer of issue #17: the UnionPay IC sale body (../ic_sale.hex) unpacked and packed with
 * a GenericPackager, the round trip asserted byte for byte, then timed with the JIT warm (min and
 * median over batches, ns per operation).
 */
public final class JposPeer {
    private interface Op {
        void run() throws Exception;
    }

    private static double[] time(int batches, int per, Op op) throws Exception {
        double[] samples = new double[batches];
        for (int b = 0; b < batches; b++) {
            long t = System.nanoTime();
            for (int i = 0; i < per; i++) {
                op.run();
            }
            samples[b] = (System.nanoTime() - t) / (double) per;
        }
        Arrays.sort(samples);
        return new double[] {samples[0], samples[batches / 2]};
    }

    public static void main(String[] args) throws Exception {
        String path = args.length > 0 ? args[0] : "../ic_sale.hex";
        byte[] body = ISOUtil.hex2byte(Files.readString(Path.of(path)).trim());
        GenericPackager packager =
                new GenericPackager(JposPeer.class.getResourceAsStream("/unionpay.xml"));
        ISOMsg msg = new ISOMsg();
        msg.setPackager(packager);
        msg.unpack(body);
        byte[] again = msg.pack();
        if (!Arrays.equals(again, body)) {
            System.err.println("round trip differs:\n" + ISOUtil.hexString(body) + "\n"
                    + ISOUtil.hexString(again));
            System.exit(1);
        }
        // Warm the JIT on the whole round trip before timing each half.
        time(200, 1000, () -> {
            ISOMsg m = new ISOMsg();
            m.setPackager(packager);
            m.unpack(body);
            m.pack();
        });
        double[] unpack = time(200, 1000, () -> {
            ISOMsg m = new ISOMsg();
            m.setPackager(packager);
            m.unpack(body);
        });
        double[] pack = time(200, 1000, msg::pack);
        System.out.printf("jpos unpack_min_ns=%.0f unpack_median_ns=%.0f pack_min_ns=%.0f"
                + " pack_median_ns=%.0f bytes=%d%n", unpack[0], unpack[1], pack[0], pack[1],
                body.length);
    }
}
