using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Res2Net.Models;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Networks;
using Res2Net.Serving;

namespace Res2Net.Benchmarks;

/// <summary>
/// <c>--serve-load</c>: a load test of the server (<see cref="InferenceServer"/>) on 127.0.0.1, not a BenchmarkDotNet run.
/// For each model (tiny-plain and res2net50-w14-s8, both on seeded weights) and each concurrency (1, 8, 32, 128 clients
/// in a closed loop, each sending its next request as soon as the last is answered, a 503 included), it runs for a
/// bounded time and number of requests and reports throughput against <see cref="CompiledNetwork.Forward(ReadOnlySpan{float}, int)"/>
/// called directly at the batch size the server actually ran, p50 and p99 latency, the batch-size histogram, the 503s
/// and any other error. Then a soak at one concurrency samples memory for several minutes. Client and server share the
/// process and its cores, as they would share a machine.
/// </summary>
/// <remarks>
/// Options: <c>--seconds S</c> per level (default 10), <c>--requests N</c> per level (default 20000), <c>--levels 1,8,32,128</c>,
/// <c>--models tiny-plain,w14</c>, <c>--soak-seconds T</c> (default 180; 0 for none), <c>--max-batch</c> (8),
/// <c>--max-delay-ms</c> (2), <c>--queue</c> (32: so a closed loop of up to 32 clients can never be refused, and 128 is past it).
/// </remarks>
internal static class ServeLoad
{
    private const string W14 = "res2net50-w14-s8_3rdparty_8xb32_in1k";

    private sealed record Settings(double Seconds, int Requests, int[] Levels, string[] Models, double SoakSeconds, int MaxBatch, int MaxDelayMs, int Queue);

    private sealed record Outcome(int Status, double Seconds);

    public static int Run(string[] args, TextWriter output) => RunAsync(args, output).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var settings = Parse(args);
        output.WriteLine($"# res2net serve under load, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        output.WriteLine();
        output.WriteLine($"Machine: {ResultsTable.Machine()}; load average before: {ResultsTable.LoadAverage()}.");
        output.WriteLine($"Server: --max-batch {settings.MaxBatch} --max-delay-ms {settings.MaxDelayMs} --queue {settings.Queue}, infer requests of one image " +
                         $"(FP32 JSON); each level {settings.Seconds} s or {settings.Requests} requests, whichever ends first; client and server in one process.");
        output.WriteLine();
        output.WriteLine("| model | clients | requests/s | direct images/s at that batch | served / direct | p50 ms | p99 ms | 503 | p99 ms of 503 | errors | mean batch | batch sizes (size:count) | working set MB start → end |");
        output.WriteLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|");
        foreach (string name in settings.Models)
        {
            var network = Create(name);
            byte[] body = InferRequestWriter.Write(SeededWeights.Input(network.Info), [1, 3, network.Info.InputHeight, network.Info.InputWidth]);
            var direct = new Dictionary<int, double>();
            foreach (int clients in settings.Levels)
            {
                long before = Environment.WorkingSet;
                var (outcomes, batches, elapsed) = await DriveAsync(network, body, clients, settings, TimeSpan.FromSeconds(settings.Seconds), settings.Requests, null);
                long after = Environment.WorkingSet;
                double meanBatch = batches.Count == 0 ? 0 : batches.Sum(kv => (double)kv.Key * kv.Value) / batches.Values.Sum();
                int batch = Math.Max(1, (int)Math.Round(meanBatch));
                if (!direct.TryGetValue(batch, out double directRate)) direct[batch] = directRate = DirectImagesPerSecond(network, batch);
                var ok = outcomes.Where(o => o.Status == 200).Select(o => o.Seconds * 1000).Order().ToList();
                var shed = outcomes.Where(o => o.Status == 503).Select(o => o.Seconds * 1000).Order().ToList();
                int errors = outcomes.Count(o => o.Status is not (200 or 503));
                double rate = ok.Count / elapsed.TotalSeconds;
                var c = CultureInfo.InvariantCulture;
                output.WriteLine(string.Create(c,
                    $"| {name} | {clients} | {rate:0.0} | {directRate:0.0} (batch {batch}) | {rate / directRate:0.00} | {Percentile(ok, 50):0.0} | {Percentile(ok, 99):0.0} | " +
                    $"{shed.Count} | {(shed.Count == 0 ? "-" : Percentile(shed, 99).ToString("0.0", c))} | {errors} | {meanBatch:0.00} | " +
                    $"{string.Join(" ", batches.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}"))} | {before / 1e6:0} → {after / 1e6:0} |"));
                output.Flush();
            }
        }

        if (settings.SoakSeconds > 0)
        {
            // Memory over a long run at a load the server sustains without shedding: the working set and the live GC heap,
            // sampled every 15 s, must stay level rather than climb. The earlier levels' networks are let go first.
            GC.Collect();
            var network = Create(W14);
            byte[] body = InferRequestWriter.Write(SeededWeights.Input(network.Info), [1, 3, network.Info.InputHeight, network.Info.InputWidth]);
            var samples = new List<(double Seconds, long WorkingSet, long Heap, int Done)>();
            output.WriteLine();
            output.WriteLine($"Soak: {W14}, 8 clients, {settings.SoakSeconds} s.");
            output.WriteLine();
            var (outcomes, _, elapsed) = await DriveAsync(network, body, 8, settings, TimeSpan.FromSeconds(settings.SoakSeconds), int.MaxValue, samples);
            output.WriteLine("| after s | answered | working set MB | live GC heap MB (after a full collection) |");
            output.WriteLine("|--:|--:|--:|--:|");
            foreach (var s in samples) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {s.Seconds:0} | {s.Done} | {s.WorkingSet / 1e6:0} | {s.Heap / 1e6:0} |"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{outcomes.Count(o => o.Status == 200)} answered in {elapsed.TotalSeconds:0} s, {outcomes.Count(o => o.Status != 200)} not 200."));
        }
        output.WriteLine();
        output.WriteLine($"Load average after: {ResultsTable.LoadAverage()}.");
        return 0;
    }

    private static CompiledNetwork Create(string name)
    {
        var network = name == "tiny-plain" ? Networks.Res2NetModels.Create(name) : Res2NetModels.Create(name == "w14" ? W14 : name);
        network.Load(SeededWeights.StateDict(network.Info), "seeded");
        return network;
    }

    /// <summary>
    /// Starts a server for <paramref name="network"/>, warms it, then runs <paramref name="clients"/> closed-loop clients
    /// until <paramref name="duration"/> or <paramref name="maxRequests"/>; returns every request's status and latency and
    /// the server's batch-size histogram. With <paramref name="memory"/>, samples memory every 15 s.
    /// </summary>
    private static async Task<(List<Outcome> Outcomes, SortedDictionary<int, long> Batches, TimeSpan Elapsed)> DriveAsync(
        CompiledNetwork network, byte[] body, int clients, Settings settings, TimeSpan duration, int maxRequests, List<(double, long, long, int)>? memory)
    {
        var options = new ServingOptions
        {
            Urls = ["http://127.0.0.1:0"],
            MaxBatch = settings.MaxBatch,
            MaxDelay = TimeSpan.FromMilliseconds(settings.MaxDelayMs),
            QueueCapacity = settings.Queue,
            Timeout = TimeSpan.FromSeconds(30),
            LogFormat = ServingLogFormat.None,
            HandleSignals = false,
        };
        await using var server = await InferenceServer.StartAsync([new ServedModel(network)], options);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(server.Urls[0]), Timeout = TimeSpan.FromSeconds(60) };
        string path = $"/v2/models/{network.Info.Name}/infer";
        for (int i = 0; i < 3; i++) await SendAsync(client, path, body);   // JIT, connections, worker threads
        string baseline = await client.GetStringAsync("/metrics");

        int sent = 0, done = 0;
        var clock = Stopwatch.StartNew();
        using var sampling = new CancellationTokenSource();
        var sampler = memory == null ? Task.CompletedTask : Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    // The live heap after a full collection: garbage waiting for the next one says nothing about a leak.
                    memory.Add((clock.Elapsed.TotalSeconds, Environment.WorkingSet, GC.GetTotalMemory(forceFullCollection: true), Volatile.Read(ref done)));
                    await Task.Delay(TimeSpan.FromSeconds(15), sampling.Token);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            var outcomes = new List<Outcome>();
            while (clock.Elapsed < duration && Interlocked.Increment(ref sent) <= maxRequests)
            {
                long start = Stopwatch.GetTimestamp();
                int status = await SendAsync(client, path, body);
                outcomes.Add(new Outcome(status, Stopwatch.GetElapsedTime(start).TotalSeconds));
                Interlocked.Increment(ref done);
            }
            return outcomes;
        })).ToArray();
        var all = (await Task.WhenAll(workers)).SelectMany(o => o).ToList();
        var elapsed = clock.Elapsed;
        await sampling.CancelAsync();
        await sampler;
        memory?.Add((elapsed.TotalSeconds, Environment.WorkingSet, GC.GetTotalMemory(forceFullCollection: true), done));
        var batches = Histogram(await client.GetStringAsync("/metrics"), baseline, network.Info.Name);
        return (all, batches, elapsed);
    }

    private static async Task<int> SendAsync(HttpClient client, string path, byte[] body)
    {
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync(path, content);
            await response.Content.ReadAsByteArrayAsync();
            return (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return -1;
        }
    }

    /// <summary>Batches of each size run between two scrapes of <c>/metrics</c> (its cumulative buckets, differenced).</summary>
    private static SortedDictionary<int, long> Histogram(string after, string before, string model)
    {
        static SortedDictionary<int, double> Buckets(string text, string model)
        {
            var buckets = new SortedDictionary<int, double>();
            foreach (Match m in Regex.Matches(text, $"^res2net_batch_size_bucket\\{{model=\"{Regex.Escape(model)}\",le=\"(\\d+)\"\\}} (\\S+)$", RegexOptions.Multiline))
                buckets[int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)] = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            return buckets;
        }
        var now = Buckets(after, model);
        var then = Buckets(before, model);
        var counts = new SortedDictionary<int, long>();
        double below = 0;
        foreach (var (size, cumulative) in now)
        {
            double value = cumulative - then.GetValueOrDefault(size);
            if (value - below > 0) counts[size] = (long)(value - below);
            below = value;
        }
        return counts;
    }

    /// <summary>Images per second of <see cref="CompiledNetwork.Forward(ReadOnlySpan{float}, int)"/> at <paramref name="batch"/>, over at least 3 s.</summary>
    private static double DirectImagesPerSecond(CompiledNetwork network, int batch)
    {
        var input = SeededWeights.Input(network.Info, batch);
        var logits = new float[batch * network.Info.NumClasses];
        for (int i = 0; i < 2; i++) network.Forward(input, batch, logits);
        var clock = Stopwatch.StartNew();
        int forwards = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(3) || forwards < 3)
        {
            network.Forward(input, batch, logits);
            forwards++;
        }
        return forwards * batch / clock.Elapsed.TotalSeconds;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static Settings Parse(string[] args)
    {
        var s = new Settings(10, 20_000, [1, 8, 32, 128], ["tiny-plain", "w14"], 180, 8, 2, 32);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            s = args[i] switch
            {
                "--seconds" => s with { Seconds = double.Parse(value, CultureInfo.InvariantCulture) },
                "--requests" => s with { Requests = int.Parse(value, CultureInfo.InvariantCulture) },
                "--levels" => s with { Levels = value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray() },
                "--models" => s with { Models = value.Split(',') },
                "--soak-seconds" => s with { SoakSeconds = double.Parse(value, CultureInfo.InvariantCulture) },
                "--max-batch" => s with { MaxBatch = int.Parse(value, CultureInfo.InvariantCulture) },
                "--max-delay-ms" => s with { MaxDelayMs = int.Parse(value, CultureInfo.InvariantCulture) },
                "--queue" => s with { Queue = int.Parse(value, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown option {args[i]}; see ServeLoad.cs"),
            };
        }
        return s;
    }
}
