/*
 * Runs the enrichment UDF bundle the way Google's Dataflow templates run a JavaScript UDF, for the tests and the
 * benchmark. The calling code follows DataflowTemplates
 * v2/common/src/main/java/com/google/cloud/teleport/v2/transforms/JavascriptTextTransformer.java
 * (GoogleCloudPlatform/DataflowTemplates, main):
 *   - getJavaScriptEngine(): new NashornScriptEngineFactory().getScriptEngine("--language=es6"), one engine;
 *   - newInvocable(): engine.eval(script) of the UDF file, then the engine used as an Invocable;
 *   - JavascriptRuntime.invoke(String data): synchronized (invocable) { invocable.invokeFunction(name, data) };
 *     null or undefined -> null; a String -> it; anything else -> RuntimeException("UDF Function did not return a
 *     String. Instead got: " + className);
 *   - FailsafeJavascriptUdf.processElement(): catch (Throwable e) -> the dead-letter record's errorMessage is
 *     e.getMessage(); a null or empty result is dropped (no output).
 * Nothing else of the template's pipeline is reproduced here.
 *
 * Usage: java -cp <nashorn classpath>:<this class> UdfHarness <udf.js> [--now <epoch ms>]
 *   Line protocol on stdin/stdout, one request per line: "<function> <JSON string literal>"; one answer per line:
 *     R <JSON string literal>   the UDF returned this String
 *     N                         it returned null or undefined (the template drops the element)
 *     T <JSON string literal>   it threw: the literal is e.getMessage() (the dead-letter errorMessage); then a space
 *                               and the Throwable's class name
 *   Answers write every character outside printable ASCII as \\uXXXX, so lone surrogates come through exactly.
 *   "bench <events file> <seconds> <window events>" runs `process` over the file's lines (cycled) for at least
 *   <seconds> of process CPU time, and prints a JSON line per window of events: {"events","cpu","wall"} (cumulative;
 *   cpu = the JVM's process CPU time in seconds, GC and JIT threads included); bad rows are counted; every returned
 *   row's text is read.
 *   --now fixes Date.now() for the script (set before the UDF is evaluated; test clocks only).
 */
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.List;
import javax.script.Invocable;
import javax.script.ScriptEngine;
import org.openjdk.nashorn.api.scripting.NashornScriptEngineFactory;
import org.openjdk.nashorn.api.scripting.ScriptObjectMirror;

public final class UdfHarness {
  private final Invocable invocable;

  private UdfHarness(String script, String now) throws Exception {
    ScriptEngine engine = new NashornScriptEngineFactory().getScriptEngine("--language=es6");
    if (now != null) engine.eval("Date.now = function () { return " + Long.parseLong(now) + "; };");
    engine.eval(script);
    invocable = (Invocable) engine;
  }

  /** JavascriptTextTransformer.JavascriptRuntime.invoke, line for line. */
  String invoke(String functionName, String data) throws Exception {
    Object result;
    synchronized (invocable) {
      result = invocable.invokeFunction(functionName, data);
    }
    if (result == null || ScriptObjectMirror.isUndefined(result)) {
      return null;
    } else if (result instanceof String) {
      return (String) result;
    } else {
      String className = result.getClass().getName();
      throw new RuntimeException("UDF Function did not return a String. Instead got: " + className);
    }
  }

  public static void main(String[] args) throws Exception {
    String now = null;
    for (int i = 1; i < args.length; i++) if (args[i].equals("--now")) now = args[++i];
    String script = new String(Files.readAllBytes(Paths.get(args[0])), StandardCharsets.UTF_8);
    UdfHarness h = new UdfHarness(script, now);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
    StringBuilder sb = new StringBuilder();
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      int space = line.indexOf(' ');
      String fn = space < 0 ? line : line.substring(0, space);
      if (fn.equals("bench")) {
        String[] a = line.split(" ");
        h.bench(a[1], Double.parseDouble(a[2]), Integer.parseInt(a[3]), out);
        continue;
      }
      String data = parseLiteral(line, space + 1);
      sb.setLength(0);
      try {
        String r = h.invoke(fn, data);
        if (r == null) sb.append('N');
        else quote(sb.append("R "), r);
      } catch (Throwable e) {
        // FailsafeJavascriptUdf: Throwable caught (UDFs can trigger Errors such as StackOverflowError).
        quote(sb.append("T "), String.valueOf(e.getMessage())).append(' ').append(e.getClass().getName());
      }
      out.write(sb.toString());
      out.write('\n');
      out.flush();
    }
  }

  private void bench(String file, double seconds, int window, BufferedWriter out) throws Exception {
    List<String> events = Files.readAllLines(Paths.get(file), StandardCharsets.UTF_8);
    com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    long wall0 = System.nanoTime();
    long n = 0;
    long bad = 0;
    long read = 0;
    while (true) {
      for (int k = 0; k < window; k++, n++) {
        try {
          String row = invoke("process", events.get((int) (n % events.size())));
          // Read the row text, as the template's next step (JSON to TableRow) does.
          if (row != null) read += row.length() + row.charAt(row.length() >> 1);
        } catch (Throwable e) {
          bad++;
        }
      }
      double cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
      double wall = (System.nanoTime() - wall0) / 1e9;
      out.write("{\"events\":" + n + ",\"cpu\":" + cpu + ",\"wall\":" + wall + ",\"bad\":" + bad + ",\"read\":" + read + "}\n");
      out.flush();
      if (cpu >= seconds) break;
    }
    out.write("done\n");
    out.flush();
  }

  /** A JSON string literal starting at `at` (the whole rest of the line). */
  static String parseLiteral(String line, int at) {
    if (line.charAt(at) != '"') throw new IllegalArgumentException("expected a JSON string literal");
    StringBuilder sb = new StringBuilder(line.length() - at);
    for (int i = at + 1; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '"') return sb.toString();
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      char e = line.charAt(++i);
      switch (e) {
        case 'n': sb.append('\n'); break;
        case 'r': sb.append('\r'); break;
        case 't': sb.append('\t'); break;
        case 'b': sb.append('\b'); break;
        case 'f': sb.append('\f'); break;
        case 'u': sb.append((char) Integer.parseInt(line.substring(i + 1, i + 5), 16)); i += 4; break;
        default: sb.append(e);
      }
    }
    throw new IllegalArgumentException("unterminated JSON string literal");
  }

  /** `s` as a JSON string literal in printable ASCII. */
  static StringBuilder quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') sb.append('\\').append(c);
      else if (c >= 0x20 && c < 0x7f) sb.append(c);
      else {
        String hex = Integer.toHexString(c);
        sb.append("\\u");
        for (int k = hex.length(); k < 4; k++) sb.append('0');
        sb.append(hex);
      }
    }
    return sb.append('"');
  }
}
