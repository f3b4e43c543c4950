using BenchmarkDotNet.Attributes;
using Res2Net.Models;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;

namespace Res2Net.Benchmarks;

/// <summary>
/// Loading res2net50-w26-s8 (194 MB of float32) from each checkpoint format, two ways: <see cref="Materialized"/> reads
/// the whole state dict into memory and then packs it (<c>network.Load(CheckpointReader.Read(path))</c>, the baseline);
/// <see cref="Streamed"/> reads one tensor at a time straight into the packed weights (<c>network.LoadCheckpoint(path)</c>).
/// </summary>
/// <remarks>
/// MemoryDiagnoser's "Allocated" is the managed bytes allocated per load, not what is alive at once; since each
/// iteration reloads the same network, it includes the fresh packed-weights buffer every reload builds beside the
/// serving one (see <see cref="CompiledNetwork.Load(IReadOnlyDictionary{string, CheckpointTensor}, string)"/>). The peak is
/// measured separately, once per case in the benchmark's own fresh process (so run it without <c>--inProcess</c>):
/// the network is created (its packed buffer not yet touched), the kernel's peak-RSS mark is reset
/// (<c>/proc/self/clear_refs</c>), the checkpoint is loaded, and the growth of the peak RSS (managed and native memory
/// together) is printed as <c>// peak</c> lines and appended to <c>checkpoint-load-peak.txt</c> in the results folder.
/// Growth minus the packed weights is the extra memory loading needed.
/// The files come from <c>$RES2NET_CHECKPOINT_DIR</c> (default <c>/tmp/seeded-ckpt</c>): <c>&lt;model&gt;.pth</c>
/// (mmpretrain zip, tools/reference/make_fixtures.py --checkpoints), <c>&lt;model&gt;.legacy.pth</c> (the same saved with
/// <c>_use_new_zipfile_serialization=False</c>) and <c>&lt;model&gt;.safetensors</c> (written from the zip file if missing).
/// </remarks>
[MemoryDiagnoser]
public class CheckpointLoadBenchmarks
{
    public const string DirectoryVariable = "RES2NET_CHECKPOINT_DIR";
    public const string ModelName = "res2net50-w26-s8_3rdparty_8xb32_in1k";

    private CompiledNetwork _network = null!;
    private string _path = "";

    [Params("zip", "legacy", "safetensors")]
    public string Format { get; set; } = "zip";

    [GlobalSetup(Target = nameof(Materialized))]
    public void SetupMaterialized() => Setup(nameof(Materialized), () => _network.Load(CheckpointReader.Read(_path)));

    [GlobalSetup(Target = nameof(Streamed))]
    public void SetupStreamed() => Setup(nameof(Streamed), () => _network.LoadCheckpoint(_path));

    [Benchmark(Baseline = true)]
    public void Materialized() => _network.Load(CheckpointReader.Read(_path));

    [Benchmark]
    public CheckpointLoadResult Streamed() => _network.LoadCheckpoint(_path);

    private void Setup(string method, Action load)
    {
        _path = CheckpointPath(Format);
        _network = Res2NetModels.Create(ModelName);
        var peak = PeakProbe.Measure(load);
        long packed = 4L * _network.Info.PackedFloats;
        long fileBytes;
        using (var handle = File.OpenHandle(_path)) fileBytes = RandomAccess.GetLength(handle); // follows a symbolic link
        string line = $"{Format,-11} {method,-12} file {Mib(fileBytes)} MiB, packed weights {Mib(packed)} MiB, " +
                      $"peak RSS growth {Mib(peak.RssGrowth)} MiB = packed + {Mib(peak.RssGrowth - packed)} MiB extra " +
                      $"({(double)(peak.RssGrowth - packed) / packed:0.00} copies of the weights); managed allocated {Mib(peak.ManagedAllocated)} MiB" +
                      (peak.Reliable ? "" : " (peak RSS mark could not be reset: upper bound)");
        Console.WriteLine("// peak " + line);
        try
        {
            string results = Path.Combine(Directory.GetCurrentDirectory(), "BenchmarkDotNet.Artifacts", "results");
            Directory.CreateDirectory(results);
            File.AppendAllText(Path.Combine(results, "checkpoint-load-peak.txt"), $"{DateTime.UtcNow:u} {line}\n");
        }
        catch (IOException)
        {
        }
    }

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);

    private static string CheckpointPath(string format)
    {
        string dir = Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } d ? d : "/tmp/seeded-ckpt";
        string zip = Path.Combine(dir, ModelName + ".pth");
        string path = format switch
        {
            "zip" => zip,
            "legacy" => Path.Combine(dir, ModelName + ".legacy.pth"),
            "safetensors" => Path.Combine(dir, ModelName + ".safetensors"),
            _ => throw new ArgumentException(format),
        };
        if (format == "safetensors" && !File.Exists(path) && File.Exists(zip))
        {
            using var source = CheckpointFile.Open(zip);
            SafetensorsWriter.Write(path, source.StateDict.Tensors);
        }
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(format == "legacy"
                ? $"{path} is missing; make it with /usr/bin/python3 -c \"import torch; torch.save(torch.load('{zip}'), '{path}', _use_new_zipfile_serialization=False)\""
                : $"{path} is missing; make it with tools/reference/make_fixtures.py --checkpoints {dir}, or set {DirectoryVariable}", path);
        }
        return path;
    }

    /// <summary>Peak resident memory growth of one action, from the kernel's high-water mark (Linux).</summary>
    private static class PeakProbe
    {
        public static (long RssGrowth, long ManagedAllocated, bool Reliable) Measure(Action action)
        {
            for (int i = 0; i < 3; i++)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
            }
            long before = Status("VmRSS");
            bool reset;
            try
            {
                File.WriteAllText("/proc/self/clear_refs", "5");
                reset = Status("VmHWM") <= before + (16 << 20);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                reset = false;
            }
            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            action();
            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            return (Status("VmHWM") - before, allocated, reset);
        }

        private static long Status(string key)
        {
            if (!File.Exists("/proc/self/status")) return 0;
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(key + ":", StringComparison.Ordinal))
                    return long.Parse(line.Split(':')[1].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
            return 0;
        }
    }
}
