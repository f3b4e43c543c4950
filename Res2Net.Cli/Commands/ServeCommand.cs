using System.CommandLine;
using Microsoft.Extensions.Logging;
using Res2Net.Models;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Kernels;
using Res2Net.Serving;

namespace Res2Net.Cli.Commands;

/// <summary>
/// <c>res2net serve</c>: loads the models, then serves them over HTTP (<see cref="InferenceServer"/>: the Open Inference
/// Protocol, TorchServe's image endpoint, Prometheus metrics) until SIGTERM or Ctrl-C, which finish the requests in flight.
/// </summary>
internal static class ServeCommand
{
    private const string Examples = """


        Examples:
          res2net serve --model res2net50-w14-s8_3rdparty_8xb32_in1k
          res2net serve --model res2net50-w14-s8_3rdparty_8xb32_in1k res2net101-w26-s4_3rdparty_8xb32_in1k --urls http://0.0.0.0:8080 --max-batch 16
          res2net serve --model res2net50-w14-s8_3rdparty_8xb32_in1k --checkpoint w14.pth --log-format json
          curl --data-binary @demo.JPEG http://127.0.0.1:8080/predictions/res2net50-w14-s8_3rdparty_8xb32_in1k
          curl http://127.0.0.1:8080/v2/models/res2net50-w14-s8_3rdparty_8xb32_in1k
          (docs/serving.md: every endpoint, the infer request's JSON, metrics, a Dockerfile and a KServe InferenceService)
        """;

    public static Command Create(TextWriter stdout)
    {
        var models = new Option<string[]>("--model", "-m")
        {
            HelpName = "NAME",
            Description = "Networks to serve, by mmpretrain name, each at /v2/models/NAME and /predictions/NAME: " +
                          string.Join(", ", Res2NetModels.All.Select(m => m.Name)) + ".",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var checkpoints = new Option<FileInfo[]>("--checkpoint", "-c")
        {
            HelpName = ModelOptions.CheckpointHelpName,
            Description = "Checkpoint of each model, in the order of --model (one per model, or none): a file in any format predict reads, or its " +
                          "http(s) URL, fetched once into the cache. Default: each model's official checkpoint, downloaded once into the cache.",
            AllowMultipleArgumentsPerToken = true,
        };
        var seeded = new Option<bool>("--seeded")
        {
            Description = "Serve the deterministic seeded weights (docs/seeded-weights.md) instead of checkpoints: to try the server or load-test it " +
                          "without a download. Their predictions mean nothing.",
        };
        var urls = new Option<string[]>("--urls")
        {
            HelpName = "URL",
            Description = "Where to listen: http://HOST:PORT, several allowed (space- or ';'-separated). Port 0 takes a free port (printed at start). " +
                          "The default listens on this machine only; http://0.0.0.0:8080 listens on every interface (in a container).",
            DefaultValueFactory = _ => ["http://127.0.0.1:8080"],
            AllowMultipleArgumentsPerToken = true,
        };
        var maxBatch = new Option<int>("--max-batch")
        {
            HelpName = "N",
            Description = $"The most images one batched forward runs, 1 to {CliLimits.MaxBatch}; also the most one infer request may send.",
            DefaultValueFactory = _ => 8,
        };
        var maxDelay = new Option<int>("--max-delay-ms")
        {
            HelpName = "T",
            Description = "How long the oldest waiting request waits for others to join its batch, 0 to 10000 ms.",
            DefaultValueFactory = _ => 5,
        };
        var queue = new Option<int>("--queue")
        {
            HelpName = "Q",
            Description = $"Requests a model may hold waiting (being read, decoded or queued), 1 to {ServingOptions.MaxQueueCapacity}; the next is answered " +
                          "503 with Retry-After.",
            DefaultValueFactory = _ => 64,
        };
        var timeout = new Option<int>("--timeout-ms")
        {
            HelpName = "T",
            Description = "Each request's deadline from its arrival, 1 to 3600000 ms: past it the answer is 504 and the request leaves the queue.",
            DefaultValueFactory = _ => 30_000,
        };
        var maxBody = new Option<int?>("--max-body-mb")
        {
            HelpName = "MB",
            Description = "The largest request body, 1 to 1024 MiB; larger ones are answered 413. Default: enough for an infer request of --max-batch images " +
                          "of the largest model (as JSON, about 20 bytes per value), at least 16.",
        };
        var threads = new Option<int>("--threads", "-t")
        {
            HelpName = "T",
            Description = $"Threads a forward runs on, 1 to {CliLimits.MaxThreads}; the default is the number of cores.",
            DefaultValueFactory = _ => Math.Min(Environment.ProcessorCount, CliLimits.MaxThreads),
        };
        var noWarmUp = new Option<bool>("--no-warm-up")
        {
            Description = "Report ready at once. By default each model first runs a forward on blank images (at batch 1 and at the batch its " +
                          "threads run side by side), so that the first request does not pay the kernels' compilation (about 0.6 s a model).",
        };
        var logFormat = new Option<string>("--log-format")
        {
            HelpName = "simple|json",
            Description = "The log on standard error: 'simple' lines, or 'json', one object per line with each field apart (for log collectors).",
            DefaultValueFactory = _ => "simple",
        };
        var logLevel = new Option<string>("--log-level")
        {
            HelpName = "LEVEL",
            Description = "The least severe events logged: trace, debug (every request and batch), information, warning or error.",
            DefaultValueFactory = _ => "information",
        };

        var command = new Command("serve",
            "Serve networks over HTTP: the Open Inference Protocol (KServe v2: /v2/health/live, /v2/health/ready, /v2/models/NAME, " +
            "POST /v2/models/NAME/infer with FP32 tensors in JSON), TorchServe's POST /predictions/NAME with an image (mmpretrain's pred_label, " +
            "pred_score, pred_class and the top-k), and Prometheus metrics at /metrics. Requests arriving together run as one batched forward. " +
            "SIGTERM or Ctrl-C stops it after the requests in flight are answered." + Examples)
        {
            models, checkpoints, seeded, urls, maxBatch, maxDelay, queue, timeout, maxBody, threads, noWarmUp, logFormat, logLevel,
        };
        command.SetAction(parse =>
        {
            var options = new ServingOptions
            {
                Urls = parse.GetRequiredValue(urls).SelectMany(u => u.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
                MaxBatch = CliLimits.Check("--max-batch", parse.GetValue(maxBatch), 1, CliLimits.MaxBatch),
                MaxDelay = TimeSpan.FromMilliseconds(CliLimits.Check("--max-delay-ms", parse.GetValue(maxDelay), 0, 10_000)),
                QueueCapacity = CliLimits.Check("--queue", parse.GetValue(queue), 1, ServingOptions.MaxQueueCapacity),
                Timeout = TimeSpan.FromMilliseconds(CliLimits.Check("--timeout-ms", parse.GetValue(timeout), 1, 3_600_000)),
                MaxRequestBodyBytes = parse.GetValue(maxBody) is { } mb ? (long)CliLimits.Check("--max-body-mb", mb, 1, 1024) << 20 : null,
                WarmUp = !parse.GetValue(noWarmUp),
                LogFormat = parse.GetValue(logFormat) switch
                {
                    "simple" => ServingLogFormat.Simple,
                    "json" => ServingLogFormat.Json,
                    var other => throw new CliException($"--log-format is 'simple' or 'json', got '{other}'."),
                },
                LogLevel = Enum.TryParse<LogLevel>(parse.GetValue(logLevel), ignoreCase: true, out var level) && level is >= LogLevel.Trace and <= LogLevel.Error
                    ? level
                    : throw new CliException($"--log-level is trace, debug, information, warning or error, got '{parse.GetValue(logLevel)}'."),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new CliException(e.Message + ".");
            }
            Workers.MaxThreads = CliLimits.Check("--threads", parse.GetValue(threads), 1, CliLimits.MaxThreads);

            string[] names = parse.GetRequiredValue(models);
            var files = parse.GetValue(checkpoints) ?? [];
            bool useSeeded = parse.GetValue(seeded);
            if (useSeeded && files.Length > 0) throw new CliException("give either --checkpoint or --seeded, not both.");
            if (files.Length != 0 && files.Length != names.Length)
            {
                throw new CliException($"{names.Length} models and {files.Length} checkpoints: give one --checkpoint per --model, in the same order, " +
                                       "or none for the official ones.");
            }
            var infos = names.Select(ExportCommand.FindModel).ToList();
            if (infos.GroupBy(i => i.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new CliException($"--model {twice.Key} is given twice; each model is served once.");

            var stderr = parse.InvocationConfiguration.Error;
            var served = new List<ServedModel>();
            for (int i = 0; i < infos.Count; i++)
            {
                var network = Res2NetModels.Create(infos[i].Name);
                if (useSeeded) network.Load(SeededWeights.StateDict(network.Info), "seeded");
                else CheckpointLocator.Load(network, files.Length == 0 ? null : files[i], stderr);
                served.Add(new ServedModel(network, ClassNames.For(network.Info)));
            }

            // Synchronous on purpose: the host's own SIGTERM and Ctrl-C handling drains the requests in flight, which an
            // asynchronous System.CommandLine action would cut short after its 2 s termination timeout.
            var server = InferenceServer.StartAsync(served, options).GetAwaiter().GetResult();
            try
            {
                foreach (string url in server.Urls) stdout.WriteLine($"res2net serve: listening on {url}");
                stdout.Flush();
                server.WaitForShutdownAsync().GetAwaiter().GetResult();
            }
            finally
            {
                server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            return 0;
        });
        return command;
    }
}
