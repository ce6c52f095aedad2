// Time Apache Jena SHACL validation inside the JVM, apart from JVM start-up.
//
// Compiled at run time by bench/jena/shacl.sh (javac into a cache under /tmp)
// against the Jena jars of Debian's libapache-jena-java; see bench/jena/README.md.
//
// Usage: JenaShaclBench --shapes SHAPES --data DATA [--repeat N] [--results TSV] [--report TTL]
//
// Prints one JSON object on stdout:
//   jena_version, jvm_to_main_ms (JVM start to main), init_ms (JenaSystem.init),
//   load_data_ms, parse_shapes_ms, validate_ms (first run), validate_ms_runs (all runs),
//   triples, results, violations, warnings, infos,
//   conforms (no sh:Violation results: what imrkg.validate calls conforming, as pySHACL
//   with allow_warnings=True does) and conforms_strict (Jena's own: no results at all).
// --results writes one line per result: severity, focus, path, source shape,
// constraint component, value, message (tab-separated, sorted).

import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

import org.apache.jena.graph.Graph;
import org.apache.jena.graph.Node;
import org.apache.jena.riot.Lang;
import org.apache.jena.riot.RDFDataMgr;
import org.apache.jena.shacl.ShaclValidator;
import org.apache.jena.shacl.Shapes;
import org.apache.jena.shacl.ValidationReport;
import org.apache.jena.shacl.validation.ReportEntry;
import org.apache.jena.shacl.validation.Severity;
import org.apache.jena.sys.JenaSystem;

public final class JenaShaclBench {

    private JenaShaclBench() {}

    private static double ms(long nanos) {
        return nanos / 1_000_000.0;
    }

    private static String num(double value) {
        return String.format(Locale.ROOT, "%.3f", value);
    }

    private static String json(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    private static String text(Object value) {
        if (value == null) {
            return "";
        }
        String s = value instanceof Node n && n.isURI() ? n.getURI() : value.toString();
        return s.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
    }

    private static String severityName(Severity severity) {
        if (Severity.Violation.equals(severity)) {
            return "Violation";
        }
        if (Severity.Warning.equals(severity)) {
            return "Warning";
        }
        if (Severity.Info.equals(severity)) {
            return "Info";
        }
        return text(severity.level());
    }

    private static void usage(String problem) {
        System.err.println("JenaShaclBench: " + problem);
        System.err.println(
                "usage: JenaShaclBench --shapes SHAPES --data DATA [--repeat N] [--results TSV] [--report TTL]");
        System.exit(2);
    }

    public static void main(String[] args) throws IOException {
        long mainStart = System.currentTimeMillis();
        long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        String shapesFile = null;
        String dataFile = null;
        String resultsFile = null;
        String reportFile = null;
        int repeat = 1;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (i + 1 >= args.length) {
                usage("missing value for " + arg);
            }
            String value = args[++i];
            switch (arg) {
                case "--shapes" -> shapesFile = value;
                case "--data" -> dataFile = value;
                case "--repeat" -> repeat = Integer.parseInt(value);
                case "--results" -> resultsFile = value;
                case "--report" -> reportFile = value;
                default -> usage("unknown option " + arg);
            }
        }
        if (shapesFile == null || dataFile == null || repeat < 1) {
            usage("--shapes and --data are required; --repeat must be at least 1");
        }

        long t0 = System.nanoTime();
        JenaSystem.init();
        long t1 = System.nanoTime();
        Graph data = RDFDataMgr.loadGraph(dataFile);
        long t2 = System.nanoTime();
        Graph shapesGraph = RDFDataMgr.loadGraph(shapesFile);
        Shapes shapes = Shapes.parse(shapesGraph);
        long t3 = System.nanoTime();

        ValidationReport report = null;
        List<Double> runs = new ArrayList<>();
        for (int i = 0; i < repeat; i++) {
            long start = System.nanoTime();
            report = ShaclValidator.get().validate(shapes, data);
            runs.add(ms(System.nanoTime() - start));
        }

        int violations = 0;
        int warnings = 0;
        int infos = 0;
        List<String> lines = new ArrayList<>();
        for (ReportEntry entry : report.getEntries()) {
            String severity = severityName(entry.severity());
            switch (severity) {
                case "Violation" -> violations++;
                case "Warning" -> warnings++;
                case "Info" -> infos++;
                default -> { }
            }
            lines.add(String.join("\t", severity, text(entry.focusNode()), text(entry.resultPath()),
                    text(entry.source()), text(entry.sourceConstraintComponent()),
                    text(entry.value()), text(entry.message())));
        }
        if (resultsFile != null) {
            Collections.sort(lines);
            Files.write(Path.of(resultsFile), lines, StandardCharsets.UTF_8);
        }
        if (reportFile != null) {
            try (OutputStream out = Files.newOutputStream(Path.of(reportFile))) {
                RDFDataMgr.write(out, report.getModel(), Lang.TURTLE);
            }
        }

        List<String> runText = new ArrayList<>();
        for (double run : runs) {
            runText.add(num(run));
        }
        String version = org.apache.jena.Jena.VERSION;
        System.out.println("{"
                + "\"jena_version\": " + json(version == null ? "" : version)
                + ", \"java_version\": " + json(System.getProperty("java.version"))
                + ", \"jvm_to_main_ms\": " + (mainStart - jvmStart)
                + ", \"init_ms\": " + num(ms(t1 - t0))
                + ", \"load_data_ms\": " + num(ms(t2 - t1))
                + ", \"parse_shapes_ms\": " + num(ms(t3 - t2))
                + ", \"validate_ms\": " + num(runs.get(0))
                + ", \"validate_ms_runs\": [" + String.join(", ", runText) + "]"
                + ", \"triples\": " + data.size()
                + ", \"results\": " + report.getEntries().size()
                + ", \"violations\": " + violations
                + ", \"warnings\": " + warnings
                + ", \"infos\": " + infos
                + ", \"conforms\": " + (violations == 0)
                + ", \"conforms_strict\": " + report.conforms()
                + "}");
    }
}
