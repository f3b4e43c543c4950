using System.Diagnostics;
using System.Globalization;
using Res2Net.Models;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Datasets;
using Res2Net.Runtime.Inference;
using SkiaSharp;

namespace Res2Net.Benchmarks;

/// <summary>
/// Peak memory of <c>res2net predict</c> and <c>res2net test</c> on very large images, each in a fresh process
/// because the peak working set (VmHWM) is the process's own high-water mark:
/// <list type="bullet">
/// <item><c>--memory make DIR [COUNT] [SIDE] [png|jpg]</c> writes COUNT copies of a SIDE x SIDE PNG or baseline JPEG
/// (default 8 PNGs of 16000 x 16000, under 1 MB each, so the file costs nothing and the pixels everything) into
/// DIR/images and an annotation file DIR/val.txt;</item>
/// <item><c>--memory predict|test DIR [MODEL]</c> loads the model with seeded weights (default res2net50-w14-s8) and
/// runs what the command runs on them: <see cref="ImageClassifier.Run"/> in batches of 16 with its default decoding
/// threads, or <see cref="DatasetEvaluator.Evaluate"/> with the command's defaults. It prints the peak working set,
/// the working set before the images (network and weights), the largest GC heap seen (sampled every 2 ms) and the time.</item>
/// </list>
/// Not a BenchmarkDotNet run: a peak is one number per process, and the run takes tens of seconds.
/// </summary>
internal static class DecodeMemory
{
    public static int Run(string[] args, TextWriter output)
    {
        if (args.Length >= 2 && args[0] == "make")
        {
            int count = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
            int side = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 16000;
            bool jpeg = args.Length > 4 && args[4] == "jpg";
            Make(args[1], count, side, jpeg, output);
            return 0;
        }
        if (args.Length >= 2 && args[0] is "predict" or "test")
            return Measure(args[0], args[1], args.Length > 2 ? args[2] : "res2net50-w14-s8", output);
        output.WriteLine("usage: --memory make DIR [COUNT] [SIDE] [png|jpg] | --memory predict|test DIR [MODEL]");
        return 2;
    }

    private static void Make(string dir, int count, int side, bool jpeg, TextWriter output)
    {
        string images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        string extension = jpeg ? ".jpg" : ".png";
        string first = Path.Combine(images, "large-0" + extension);
        // Smooth gradients with a few hard edges: large pixels, a small file (the decoder's cost is the pixels).
        using (var bitmap = new SKBitmap(new SKImageInfo(side, side, SKColorType.Rgba8888, SKAlphaType.Opaque)))
        {
            unsafe
            {
                byte* p = (byte*)bitmap.GetPixels();
                for (long y = 0; y < side; y++)
                {
                    for (long x = 0; x < side; x++, p += 4)
                    {
                        p[0] = (byte)(x * 255 / side);
                        p[1] = (byte)(y * 255 / side);
                        p[2] = (byte)(((x / 512) + (y / 512)) % 2 * 200);
                        p[3] = 255;
                    }
                }
            }
            using var stream = File.Create(first);
            bitmap.Encode(stream, jpeg ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, 90);
        }
        for (int i = 1; i < count; i++) File.Copy(first, Path.Combine(images, $"large-{i}{extension}"), overwrite: true);
        File.WriteAllLines(Path.Combine(dir, "val.txt"), Enumerable.Range(0, count).Select(i => $"images/large-{i}{extension} {i % 10}"));
        output.WriteLine($"{count} x {side}x{side} {(jpeg ? "JPEG" : "PNG")} ({new FileInfo(first).Length / 1e6:0.0} MB each) in {images}");
    }

    private static int Measure(string mode, string dir, string model, TextWriter output)
    {
        var info = Res2NetModels.All.First(m => m.Name == model || m.ClassName == model || m.Name.StartsWith(model, StringComparison.Ordinal));
        var network = Res2NetModels.Create(info.Name);
        network.Load(SeededWeights.StateDict(info), "seeded");
        GC.Collect();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        long before = process.WorkingSet64;

        long peakHeap = 0;
        bool done = false;
        var sampler = new Thread(() =>
        {
            while (!Volatile.Read(ref done))
            {
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                Thread.Sleep(2);
            }
        }) { IsBackground = true };
        sampler.Start();

        var clock = Stopwatch.StartNew();
        int images;
        if (mode == "predict")
        {
            var files = Directory.GetFiles(Path.Combine(dir, "images")).Order(StringComparer.Ordinal).ToList();
            var classifier = new ImageClassifier(network, ClassNames.For(info));
            // As PredictCommand: one batch at a time.
            for (int start = 0; start < files.Count; start += classifier.BatchSize)
            {
                var chunk = files.Skip(start).Take(classifier.BatchSize).Select(InferenceInput.FromFile).ToList();
                classifier.Run(chunk, 5);
            }
            images = files.Count;
        }
        else
        {
            var result = new DatasetEvaluator(network).Evaluate(ImageDataset.Open(dir, Path.Combine(dir, "val.txt")));
            images = result.Evaluated;
            foreach (var s in result.Skipped) output.WriteLine($"skipped {s.RelativePath}: {s.Reason}");
        }
        clock.Stop();
        Volatile.Write(ref done, true);
        sampler.Join();

        process.Refresh();
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c,
            $"{mode}: {images} images, {clock.Elapsed.TotalSeconds:0.0} s; peak working set {process.PeakWorkingSet64 / 1e9:0.00} GB " +
            $"(network loaded: {before / 1e9:0.00} GB); peak GC heap {peakHeap / 1e9:0.00} GB; {Environment.ProcessorCount} cores"));
        return 0;
    }
}
