using System.Text;
using Res2Net.Cli;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Tests.Checkpoints;
using Res2Net.Tests.Datasets;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary>
/// One row of <see cref="BadInputTableTests"/>: a command line that must fail cleanly.
/// </summary>
/// <param name="Class">The kind of bad input (npy, syntax, limits, annotation, …); rows are named "Class: Case".</param>
/// <param name="Case">What this row tries.</param>
/// <param name="Arguments">Builds the command line in a fresh scratch folder (creating any files it needs there).</param>
/// <param name="Expected">Fragments stderr must hold: the file or option at fault and what is wrong. <c>{dir}</c> stands for the scratch folder.</param>
/// <param name="Output">A file or folder, relative to the scratch folder, that the command was asked to write and must not have created.</param>
public sealed record BadInput(string Class, string Case, Func<string, string[]> Arguments, string[] Expected, string? Output = null)
{
    public string Name => $"{Class}: {Case}";
}

/// <summary>
/// Every command against every class of bad input that issue 13 saw crash the CLI: each must exit 2 with
/// <c>res2net: error: …</c> naming the file or option, print nothing on stdout and write no output file.
/// To cover a new kind of bad input, add rows to <see cref="Rows"/> (one helper per class keeps them short).
/// </summary>
public class BadInputTableTests : IDisposable
{
    private const string W14 = SeededCheckpoint.Model;

    /// <summary>A checkpoint that exists but does not fit W14: any row that got as far as loading it would fail with another message.</summary>
    private static string WrongCheckpoint => Fixtures.Path("tiny-plain.pth");

    public static readonly IReadOnlyList<BadInput> Rows =
        [.. NpyRows(), .. SyntaxRows(), .. LimitRows(), .. AnnotationRows(), .. OutputRows(), .. ImageRows(), .. CheckpointRows(), .. CheckpointUrlRows(), .. PictureRows(),
        .. InspectRows(), .. DeviceRows(), .. ServeRows(), .. ShardRows()];

    public static TheoryData<string> Names => new(Rows.Select(r => r.Name));

    private readonly List<string> _temporary = new();

    public void Dispose()
    {
        foreach (string dir in _temporary) Directory.Delete(dir, recursive: true);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void FailsWithExitCode2AndOneMessageAndNoOutput(string name)
    {
        var row = Rows.Single(r => r.Name == name);
        string dir = TempFolders.Create("res2net-bad-input-").FullName;
        _temporary.Add(dir);

        var (code, output, err) = CliTests.Run(row.Arguments(dir));

        Assert.True(code == CliApp.UserError, $"exit code {code}, stderr: {err}");
        // A command that got as far as loading its checkpoint has said which one (an informational line) first.
        err = string.Join('\n', err.Split('\n').SkipWhile(line => line.StartsWith("checkpoint: ", StringComparison.Ordinal)));
        Assert.StartsWith("res2net: error: ", err);
        Assert.DoesNotContain("   at ", err);   // no stack trace
        foreach (string fragment in row.Expected) Assert.Contains(fragment.Replace("{dir}", dir), err);
        Assert.Equal("", output);
        if (row.Output != null) Assert.False(Path.Exists(Path.Combine(dir, row.Output)), $"{row.Output} was created");
    }

    [Fact]
    public void RowNamesAreUnique() => Assert.Equal(Rows.Count, Rows.Select(r => r.Name).Distinct().Count());

    private static string Write(string dir, string name, byte[] bytes)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private const string F4 = "'descr': '<f4', 'fortran_order': False";

    /// <summary>A version 1.0 file with this header dict and these data bytes.</summary>
    private static byte[] Npy(string dict, int dataBytes = 4) => NpyTests.NpyBytes(dict, new byte[dataBytes]);

    /// <summary>A bad .npy given to predict: the message names the file and the field at fault.</summary>
    private static BadInput NpyRow(string @case, byte[] bytes, string cause, params string[] options) =>
        new("npy", @case, dir => ["predict", Write(dir, "input.npy", bytes), "--model", W14, "--checkpoint", WrongCheckpoint, .. options],
            ["{dir}/input.npy: ", cause]);

    private static IEnumerable<BadInput> NpyRows()
    {
        byte[] magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
        var v4 = Npy($"{{{F4}, 'shape': (3, 224, 224)}}");
        v4[6] = 4;
        var badUtf8 = NpyTests.NpyBytes($"{{{F4}, 'shape': ('\u00ff',)}}", new byte[4], major: 3);   // latin-1 ÿ: not UTF-8
        yield return NpyRow("empty file", [], "magic: not a .npy file");
        yield return NpyRow("text file", "hello, world\n"u8.ToArray(), "magic: not a .npy file");
        yield return NpyRow("ends after the magic", magic, "version: file ends inside the version");
        yield return NpyRow("version 4.0", v4, "format version 4.0 not supported");
        yield return NpyRow("ends inside the header length", [.. magic, 1, 0, 0x10], "file ends inside the header length");
        yield return NpyRow("header longer than the file", [.. magic, 1, 0, 0xff, 0x0f, (byte)'{'], "file ends after 1 of the header's 4095 bytes");
        yield return NpyRow("header length 4 GiB", [.. magic, 2, 0, 0xff, 0xff, 0xff, 0xff, (byte)'{'], "header claims 4294967295 bytes");
        yield return NpyRow("header not a dict", Npy("[1, 2]"), "header: is not a dict literal");
        yield return NpyRow("header cut short", Npy("{'descr': '<f4'"), "header: expected ',' or '}' in dict");
        yield return NpyRow("header not UTF-8", badUtf8, "header: is not valid UTF-8");
        yield return NpyRow("header nested too deep", Npy(new string('[', 100)), "nested deeper");
        yield return NpyRow("shape missing", Npy($"{{{F4}}}"), "shape: missing");
        yield return NpyRow("dtype int32", Npy("{'descr': '<i4', 'fortran_order': False, 'shape': (3, 224, 224)}"), "descr: dtype '<i4' not supported");
        yield return NpyRow("dtype big-endian float32", Npy("{'descr': '>f4', 'fortran_order': False, 'shape': (3, 224, 224)}"), "dtype '>f4' not supported");
        yield return NpyRow("structured dtype", Npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}"), "descr: structured");
        yield return NpyRow("Fortran order", Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 224, 224)}"), "fortran_order: True is not supported");
        yield return NpyRow("negative shape", Npy($"{{{F4}, 'shape': (-1, 3, 224, 224)}}"), "shape: dimension 0 is not a non-negative integer");
        yield return NpyRow("huge shape", Npy($"{{{F4}, 'shape': (100000, 3, 224, 224)}}"), "holds more elements than one array can");
        yield return NpyRow("dimension beyond an int", Npy($"{{{F4}, 'shape': (99999999999, 3, 224, 224)}}"), "dimension 0 is 99999999999, larger than an int");
        yield return NpyRow("integer beyond a long", Npy($"{{{F4}, 'shape': (99999999999999999999,)}}"), "out of range");
        yield return NpyRow("truncated data", Npy($"{{{F4}, 'shape': (1, 3, 224, 224)}}", 8), "needs 602112 bytes but the file holds only 8");
        yield return NpyRow("truncated data, with --json and --save-logits", Npy($"{{{F4}, 'shape': (3, 224, 224)}}", 8),
            "needs 602112 bytes", "--json", "--save-logits", "logits.npy") with { Output = "logits.npy" };
        yield return new("npy", "a folder named .npy", dir => ["predict", Directory.CreateDirectory(Path.Combine(dir, "x.npy")).FullName, "--model", W14],
            ["{dir}/x.npy is a folder"]);
    }

    /// <summary>A command-line mistake: exit 2, the mistake, and a short usage line for the command (not the whole help).</summary>
    private static BadInput SyntaxRow(string @case, string command, Func<string, string[]> arguments, string message) =>
        new("syntax", @case, arguments, [message, command.Length == 0 ? "usage: res2net COMMAND" : $"usage: res2net {command} ", $"see 'res2net {command}{(command.Length == 0 ? "" : " ")}--help'"]);

    /// <summary>
    /// --device: a name it does not know, and CUDA asked for where there is none (CI's machines have no GPU; the GPU
    /// machine has no .NET, so this suite never runs where CUDA exists).
    /// </summary>
    private static IEnumerable<BadInput> DeviceRows()
    {
        yield return new("device", "bench --device gpu", _ => ["bench", "--model", W14, "--device", "gpu"], ["--device gpu: expected cpu, cuda or ilgpu-cpu"]);
        yield return new("device", "bench --profile on the CPU", _ => ["bench", "--model", W14, "--profile"], ["--profile times a device's kernels"]);
        yield return new("device", "bench --device cuda without a GPU", _ => ["bench", "--model", W14, "--device", "cuda", "--iterations", "1"],
            ["--device cuda", "no CUDA device", "it found: CPUAccelerator"]);
    }

    private static IEnumerable<BadInput> SyntaxRows()
    {
        const string unknown = "unrecognized option '--bogus'";
        // --bogus lands in INPUT for predict, NAME for info and OUT for convert unless it is looked for: it is an option, not a file.
        yield return SyntaxRow("predict --bogus", "predict", dir => ["predict", Path.Combine(dir, "in.npy"), "--bogus", "--model", W14], unknown);
        yield return SyntaxRow("test --bogus", "test", dir => ["test", "--model", W14, "--data", dir, "--bogus"], unknown);
        yield return SyntaxRow("info --bogus", "info", _ => ["info", "--bogus"], unknown);
        yield return SyntaxRow("convert --bogus", "convert", dir => ["convert", WrongCheckpoint, "--bogus"], unknown);
        yield return SyntaxRow("inspect --bogus", "inspect", dir => ["inspect", WrongCheckpoint, "--bogus"], unknown);
        yield return SyntaxRow("export --bogus", "export", dir => ["export", "--model", W14, "--out", Path.Combine(dir, "m.onnx"), "--bogus"], unknown);
        yield return SyntaxRow("bench --bogus", "bench", _ => ["bench", "--model", W14, "--bogus"], unknown);
        // After "--" a token is a file however it starts (POSIX): this one then fails as a missing input, without usage.
        yield return new("syntax", "a file named like an option, after --", _ => ["predict", "--model", W14, "--", "-x.npy"],
            [$"input {Path.GetFullPath("-x.npy")} does not exist"]);
        yield return SyntaxRow("an option holding ESC", "bench", _ => ["bench", "--model", W14, "--bo\u001b[2Jgus"], "unrecognized option '--bo\\x1b[2Jgus'");
        yield return SyntaxRow("unknown command", "", _ => ["bogus"], "unknown command 'bogus'");
        yield return SyntaxRow("no command", "", _ => [], "no command given");
        yield return SyntaxRow("missing required option", "predict", dir => ["predict", Path.Combine(dir, "in.npy")], "option '--model' is required");
        yield return SyntaxRow("option without its value", "predict", dir => ["predict", Path.Combine(dir, "in.npy"), "--model"], "'--model'");
        yield return SyntaxRow("not an integer", "predict", dir => ["predict", Path.Combine(dir, "in.npy"), "--model", W14, "--topk", "abc"],
            "cannot parse argument 'abc' for option '--topk' as an integer");
        yield return SyntaxRow("an empty file path", "predict", dir => ["predict", Path.Combine(dir, "in.npy"), "--model", W14, "--checkpoint", ""],
            "cannot parse argument '' for option '--checkpoint' as a file path");
        yield return SyntaxRow("extra argument", "test", dir => ["test", "--model", W14, "--data", dir, "stray"], "unexpected argument 'stray'");
    }

    /// <summary>A batch or thread count beyond what the CLI allows, refused before anything is loaded.</summary>
    private static BadInput LimitRow(string @case, Func<string, string[]> arguments, string option, string limit, string? output = null) =>
        new("limits", @case, arguments, [option, limit], output);

    private static IEnumerable<BadInput> LimitRows()
    {
        foreach (string n in new[] { "14000", "100000", "0" })
        {
            yield return LimitRow($"test --batch-size {n}", dir => ["test", "--model", W14, "--checkpoint", WrongCheckpoint, "--data", dir, "--batch-size", n, "--out", Path.Combine(dir, "results.json")],
                "--batch-size", $"between 1 and {CliLimits.MaxBatch}, got {n}", "results.json");
            yield return LimitRow($"bench --batch {n}", _ => ["bench", "--model", W14, "--batch", n], "--batch", $"between 1 and {CliLimits.MaxBatch}, got {n}");
        }
        yield return LimitRow("bench --threads 100000", _ => ["bench", "--model", W14, "--threads", "100000"], "--threads", $"between 1 and {CliLimits.MaxThreads}, got 100000");
        // 2^31 - 1 timed runs would allocate 16 GB of timings and then run for years.
        yield return LimitRow("bench --iterations 2147483647", _ => ["bench", "--model", W14, "--iterations", "2147483647"], "--iterations", $"between 1 and {CliLimits.MaxIterations}, got 2147483647");
        yield return LimitRow("bench --warmup 2147483647", _ => ["bench", "--model", W14, "--warmup", "2147483647"], "--warmup", $"between 0 and {CliLimits.MaxIterations}, got 2147483647");
        yield return LimitRow("bench --threads 0", _ => ["bench", "--model", W14, "--threads", "0"], "--threads", $"between 1 and {CliLimits.MaxThreads}, got 0");
    }

    /// <summary>An annotation file that is not one: the message names the file and line, and nothing unbounded is read.</summary>
    private static IEnumerable<BadInput> AnnotationRows()
    {
        string tooLong = $"longer than {Res2Net.Runtime.Datasets.AnnotationLineReader.MaxLineLength} characters";
        yield return new("annotation", "/dev/zero",
            dir => ["test", "--model", W14, "--checkpoint", WrongCheckpoint, "--data", dir, "--ann-file", "/dev/zero", "--out", Path.Combine(dir, "results.json")],
            ["/dev/zero:1: ", tooLong], "results.json");
        yield return new("annotation", "a line too long",
            dir => ["test", "--model", W14, "--checkpoint", WrongCheckpoint, "--data", dir, "--ann-file",
                Write(dir, "val.txt", Encoding.UTF8.GetBytes("a.jpg 1\nb.jpg 2\n" + new string('x', 100_000) + " 3\n"))],
            ["{dir}/val.txt:3: ", tooLong]);
    }

    /// <summary>
    /// An output path that names a folder, for every command that writes: refused before any work, not after it
    /// (Cli/OutputSafetyTests has the rest of the output rules: inputs, other kinds of file, links, full disks).
    /// </summary>
    private static IEnumerable<BadInput> OutputRows()
    {
        static string Folder(string dir, string name) => Directory.CreateDirectory(Path.Combine(dir, name)).FullName;
        static string[] Expected(string name) => [$"{{dir}}/{name}: is a folder; give a file name"];
        yield return new("output", "convert to a folder", dir => ["convert", WrongCheckpoint, Folder(dir, "out.safetensors")], Expected("out.safetensors"));
        yield return new("output", "inspect --spec to a folder", dir => ["inspect", WrongCheckpoint, "--spec", Folder(dir, "spec.json")], Expected("spec.json"));
        yield return new("output", "export to a folder",
            dir => ["export", "--model", W14, "--checkpoint", WrongCheckpoint, "--out", Folder(dir, "model.onnx")], Expected("model.onnx"));
        yield return new("output", "predict --save-logits to a folder",
            dir => ["predict", Path.Combine(SeededCheckpoint.DemoDir, "cat-dog.png"), "--model", W14, "--checkpoint", WrongCheckpoint,
                "--save-logits", Folder(dir, "logits.npy")], Expected("logits.npy"));
        yield return new("output", "test --out to a folder",
            dir => ["test", "--model", W14, "--checkpoint", WrongCheckpoint, "--data", SeededCheckpoint.DemoDir,
                "--ann-file", Res2Net.Tests.Datasets.DatasetFixtures.AnnFile("seeded"), "--out", Folder(dir, "results.json")], Expected("results.json"));
    }

    /// <summary>An image that cannot be read, given with a checkpoint that fits: named, with the reason.</summary>
    private static IEnumerable<BadInput> ImageRows()
    {
        static BadInput ImageRow(string @case, string name, byte[] bytes, string cause) =>
            new("image", @case, dir => ["predict", Write(dir, name, bytes), "--model", W14, "--checkpoint", SeededCheckpoint.Path, "--json"],
                [$"{{dir}}/{name}", cause]);
        yield return ImageRow("a corrupt JPEG", "bad.jpg", [0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3], "Cannot decode image");
        yield return ImageRow("a TIFF", "scan.tif", [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 0, 0], "not a recognised image format");
        // OpenCV's imread reads no side longer than 2^20; the header alone says so, no pixel is decoded.
        yield return ImageRow("a side longer than OpenCV reads", "long.pgm", Encoding.ASCII.GetBytes("P5\n1048577 1\n255\n"),
            "side longer than 1048576 pixels");
    }

    /// <summary>A checkpoint whose bytes were damaged after PyTorch wrote it: the zip entry's CRC-32 says so, and nothing is written.</summary>
    private static IEnumerable<BadInput> CheckpointRows()
    {
        static string Damaged(string dir)
        {
            byte[] file = File.ReadAllBytes(Fixtures.Path("tiny-plain.pth"));
            var (offset, length, _) = ZipEntryBytes.Locate(file, "tiny-plain/data/0");
            file[offset + length / 2] ^= 0x10;
            return Write(dir, "damaged.pth", file);
        }
        yield return new("checkpoint", "a flipped byte in a tensor, converted",
            dir => ["convert", Damaged(dir), Path.Combine(dir, "out.safetensors")],
            ["{dir}/damaged.pth", "'tiny-plain/data/0' is damaged"], "out.safetensors");
    }

    /// <summary>
    /// A checkpoint given as a URL that cannot be fetched into the cache: another scheme, or no file name to cache it
    /// under. Refused before any request or output, naming the URL.
    /// </summary>
    private static IEnumerable<BadInput> CheckpointUrlRows()
    {
        const string OnlyHttp = "only http:// and https:// URLs are fetched";
        const string NoFile = "names no file; it must end in the checkpoint's file name";
        yield return new("checkpoint URL", "ftp, test",
            dir => ["test", "--model", W14, "--checkpoint", "ftp://127.0.0.1/a.pth", "--data", SeededCheckpoint.DemoDir,
                "--ann-file", DatasetFixtures.AnnFile("seeded"), "--out", Path.Combine(dir, "results.json")],
            ["checkpoint URL ftp://127.0.0.1/a.pth", OnlyHttp], "results.json");
        yield return new("checkpoint URL", "file://, convert", dir => ["convert", "file:///etc/hostname", Path.Combine(dir, "out.safetensors")],
            ["checkpoint URL file:///etc/hostname", OnlyHttp], "out.safetensors");
        yield return new("checkpoint URL", "ends in a folder, predict",
            dir => ["predict", Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"), "--model", W14, "--checkpoint", "http://127.0.0.1:1/models/"],
            ["checkpoint URL http://127.0.0.1:1/models/", NoFile]);
        yield return new("checkpoint URL", "host only, export",
            dir => ["export", "--model", W14, "--checkpoint", "https://127.0.0.1:1", "--out", Path.Combine(dir, "m.onnx")],
            ["checkpoint URL https://127.0.0.1:1", NoFile], "m.onnx");
        yield return new("checkpoint URL", "no host, bench", _ => ["bench", "--model", W14, "--checkpoint", "http:///a.pth"],
            ["checkpoint URL http:///a.pth", OnlyHttp]);
        yield return new("checkpoint URL", "an escape sequence in the file name, test",
            dir => ["test", "--model", W14, "--checkpoint", "http://127.0.0.1:1/a%1b%5b2Jb.pth", "--data", SeededCheckpoint.DemoDir,
                "--ann-file", DatasetFixtures.AnnFile("seeded")],
            ["its file name holds control characters (a\\x1b[2Jb.pth)"]);
    }

    /// <summary>Bad choices for the pictures (cam, predict --out-dir, test --out-dir): the option and what it takes.</summary>
    private static IEnumerable<BadInput> PictureRows()
    {
        static string[] Cam(string dir, params string[] options) =>
            ["cam", Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"), "--model", W14, "--checkpoint", WrongCheckpoint, "--out", Path.Combine(dir, "maps"), .. options];
        yield return new("pictures", "cam --class past the last class", dir => Cam(dir, "--class", "1000"),
            ["--class 1000 is not a class: the network has classes 0 to 999"], "maps");
        yield return new("pictures", "cam --class naming two classes", dir => Cam(dir, "--class", "crane"),
            ["--class 'crane' names 2 classes: 134 (crane), 517 (crane); give the index"], "maps");
        yield return new("pictures", "cam --class naming no class", dir => Cam(dir, "--class", "unicorn"),
            ["--class 'unicorn' is neither a class index (0 to 999) nor a class name"], "maps");
        yield return new("pictures", "cam --out a file",
            dir => ["cam", Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"), "--model", W14, "--checkpoint", WrongCheckpoint, "--out", Write(dir, "maps", [1])],
            ["--out {dir}/maps is a file; give a folder"]);
        yield return new("pictures", "cam on a folder",
            dir => ["cam", dir, "--model", W14, "--checkpoint", WrongCheckpoint, "--out", Path.Combine(dir, "maps")],
            ["input {dir} is a folder; give image files"], "maps");
        yield return new("pictures", "predict --out-dir with a tensor input",
            dir => ["predict", Path.Combine(SeededCheckpoint.DemoDir, "bird.JPEG.tensor.npy"), "--model", W14, "--checkpoint", WrongCheckpoint,
                "--out-dir", Path.Combine(dir, "shown")],
            ["--out-dir draws on images; ", "bird.JPEG.tensor.npy is a tensor"], "shown");
        yield return new("pictures", "predict --out-dir a file",
            dir => ["predict", Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"), "--model", W14, "--checkpoint", WrongCheckpoint,
                "--out-dir", Write(dir, "shown", [1])],
            ["--out-dir {dir}/shown is a file; give a folder"]);
        yield return new("pictures", "test --show-wrong without --out-dir",
            _ => ["test", "--model", W14, "--checkpoint", WrongCheckpoint, "--data", SeededCheckpoint.DemoDir,
                "--ann-file", Res2Net.Tests.Datasets.DatasetFixtures.AnnFile("seeded"), "--show-wrong"],
            ["--show-wrong chooses which pictures --out-dir saves; give --out-dir DIR too"]);
    }
    /// <summary>
    /// <c>res2net inspect</c> on what is not a checkpoint, not a Res2Net, or cut short, and on values a spec cannot take:
    /// the file and the first thing wrong are named, and no spec is written.
    /// </summary>
    private static IEnumerable<BadInput> InspectRows()
    {
        static string[] Inspect(string dir, string checkpoint, params string[] options) => ["inspect", checkpoint, "--spec", Path.Combine(dir, "spec.json"), .. options];
        static string Cut(string dir, string name)
        {
            byte[] file = File.ReadAllBytes(InspectFixtures.Path(name));
            return Write(dir, name, file[..(file.Length / 2)]);
        }
        static string Backbone(string dir)
        {
            // A Res2Net without its head, as detection and segmentation code saves backbones.
            using var file = CheckpointFile.Open(InspectFixtures.Case("b1211-d-w1-s8.timm.pth").Path);
            string path = Path.Combine(dir, "backbone.safetensors");
            SafetensorsWriter.Write(path, file.StateDict.Tensors.Where(t => !t.Name.StartsWith("fc.", StringComparison.Ordinal)));
            return path;
        }
        const string Spec = "spec.json";
        yield return new("inspect", "not a checkpoint", dir => Inspect(dir, Write(dir, "notes.txt", "hello\n"u8.ToArray())),
            ["{dir}/notes.txt: not a checkpoint this reader knows: the file starts with bytes 68656c6c6f0a"], Spec);
        yield return new("inspect", "a ResNet, not a Res2Net", dir => Inspect(dir, InspectFixtures.Path("resnet-bottleneck.pth")),
            ["resnet-bottleneck.pth: not a Res2Net this project compiles: 'layer1.0.conv2.weight' [2, 2, 3, 3] is a ResNet Bottleneck's 3×3 conv"], Spec);
        yield return new("inspect", "a backbone without its classifier", dir => Inspect(dir, Backbone(dir)),
            ["{dir}/backbone.safetensors: not a Res2Net this project compiles: it has no classifier 'fc.weight': it is the backbone of a res2net blocks [1, 2, 1, 1] w1 s8"], Spec);
        yield return new("inspect", "a truncated zip", dir => Inspect(dir, Cut(dir, "r50-plain-w1-s4.mmpretrain.pth")),
            ["{dir}/r50-plain-w1-s4.mmpretrain.pth: corrupt or truncated zip archive"], Spec);
        yield return new("inspect", "a truncated legacy file", dir => Inspect(dir, Cut(dir, "r101-v1b-w1-s2.official.pth")),
            ["{dir}/r101-v1b-w1-s2.official.pth: legacy storage", "the file is truncated or corrupt"], Spec);
        yield return new("inspect", "a truncated safetensors file", dir => Inspect(dir, Cut(dir, "r152-plain-w1-s3.timm.safetensors")),
            ["{dir}/r152-plain-w1-s3.timm.safetensors: safetensors tensor", "the file is truncated or corrupt"], Spec);
        yield return new("inspect", "a missing checkpoint", dir => Inspect(dir, Path.Combine(dir, "none.pth")), ["checkpoint {dir}/none.pth does not exist"], Spec);
        yield return new("inspect", "--input-size below the total stride", dir => Inspect(dir, WrongCheckpoint, "--input-size", "16"),
            ["--input-size takes 32 to 8192 pixels", "got 16"], Spec);
        yield return new("inspect", "--name with a line break", dir => Inspect(dir, WrongCheckpoint, "--name", "a\nb"),
            ["--name a\\nb: a spec's name has no control characters, line breaks or bidirectional controls"], Spec);
        yield return new("inspect", "--spec not a .json file", dir => ["inspect", WrongCheckpoint, "--spec", Path.Combine(dir, "spec.txt")],
            ["--spec must name a .json file (the generator compiles networks/*.json), got spec.txt"], "spec.txt");
    }

    /// <summary>Listeners that hold a port for the "address in use" row while the test process lives.</summary>
    private static readonly List<System.Net.Sockets.TcpListener> HeldPorts = [];

    private static string HeldPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        lock (HeldPorts) HeldPorts.Add(listener);
        return $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}";
    }

    private static IEnumerable<BadInput> ServeRows()
    {
        // Every refusal comes before the server listens (nothing on stdout), most before any model is loaded.
        yield return new("serve", "unknown model", _ => ["serve", "--model", "resnet50", "--seeded"], ["Unknown model 'resnet50'", W14]);
        yield return new("serve", "a model twice", _ => ["serve", "--model", W14, W14, "--seeded"], [$"--model {W14} is given twice"]);
        yield return new("serve", "checkpoints not one per model", _ => ["serve", "--model", W14, "res2net50-w26-s8_3rdparty_8xb32_in1k", "--checkpoint", WrongCheckpoint],
            ["2 models and 1 checkpoints: give one --checkpoint per --model"]);
        yield return new("serve", "--checkpoint and --seeded", _ => ["serve", "--model", W14, "--checkpoint", WrongCheckpoint, "--seeded"],
            ["give either --checkpoint or --seeded, not both"]);
        yield return new("serve", "a checkpoint that does not exist", dir => ["serve", "--model", W14, "--checkpoint", Path.Combine(dir, "none.pth")],
            ["checkpoint {dir}/none.pth does not exist"]);
        yield return new("serve", "a checkpoint that does not fit", _ => ["serve", "--model", W14, "--checkpoint", WrongCheckpoint],
            ["the checkpoint does not fit " + W14]);
        yield return new("serve", "--max-batch 0", _ => ["serve", "--model", W14, "--seeded", "--max-batch", "0"], ["--max-batch must be between 1 and 1024, got 0"]);
        yield return new("serve", "--queue 0", _ => ["serve", "--model", W14, "--seeded", "--queue", "0"], ["--queue must be between 1 and 100000, got 0"]);
        yield return new("serve", "--max-delay-ms negative", _ => ["serve", "--model", W14, "--seeded", "--max-delay-ms", "-1"], ["--max-delay-ms must be between 0 and 10000"]);
        yield return new("serve", "--timeout-ms 0", _ => ["serve", "--model", W14, "--seeded", "--timeout-ms", "0"], ["--timeout-ms must be between 1 and 3600000"]);
        yield return new("serve", "--max-body-mb past 1 GiB", _ => ["serve", "--model", W14, "--seeded", "--max-body-mb", "2048"], ["--max-body-mb must be between 1 and 1024"]);
        yield return new("serve", "an https URL", _ => ["serve", "--model", W14, "--seeded", "--urls", "https://127.0.0.1:8443"],
            ["'https://127.0.0.1:8443' is not a URL to listen on (--urls); expected http://HOST:PORT"]);
        yield return new("serve", "a URL with a path", _ => ["serve", "--model", W14, "--seeded", "--urls", "http://127.0.0.1:8080/api"],
            ["'http://127.0.0.1:8080/api' is not a URL to listen on"]);
        yield return new("serve", "--log-format xml", _ => ["serve", "--model", W14, "--seeded", "--log-format", "xml"], ["--log-format is 'simple' or 'json', got 'xml'"]);
        yield return new("serve", "--log-level loud", _ => ["serve", "--model", W14, "--seeded", "--log-level", "loud"], ["--log-level is trace, debug, information, warning or error"]);
        yield return new("serve", "an address in use", _ => ["serve", "--model", W14, "--seeded", "--urls", HeldPort(), "--log-level", "error"],
            ["address already in use"]);
    }

    /// <summary>A results file as 'res2net test --shard K/N --out' writes it, with <paramref name="samples"/> images of its shard.</summary>
    private static string Part(string dir, string name, int index, int count, int listing = 4, string model = W14, string sha = "ab12", bool shard = true, int? samples = null)
    {
        var indices = Enumerable.Range(0, listing).Where(i => i % count == index).ToList();
        if (samples is { } n) indices = indices.Take(n).ToList();
        string shardJson = shard ? $"\"shard\": {{\"index\": {index}, \"count\": {count}, \"listing_images\": {listing}}}," : "";
        string sampleJson = string.Join(",", indices.Select(i =>
            $"{{\"index\": {i}, \"file\": \"img{i}.jpg\", \"gt_label\": 1, \"pred_label\": 1, \"pred_score\": 0.5, \"topk\": [1, 2, 3, 4, 5], \"scores\": [0.5, 0.2, 0.1, 0.1, 0.1]}}"));
        return Write(dir, name, Encoding.UTF8.GetBytes(
            $"{{\"model\": \"{model}\", \"checkpoint\": \"/w.pth\", \"checkpoint_sha256\": \"{sha}\", \"data\": \"/data\", \"layout\": \"annotation file\", " +
            $"\"tta\": \"none\", \"listing_sha256\": \"cd34\", {shardJson} \"total\": {indices.Count}, \"seconds\": 1.5, \"skipped\": [], \"samples\": [{sampleJson}]}}"));
    }

    private static IEnumerable<BadInput> ShardRows()
    {
        string[] Test(string dir, params string[] options) =>
            ["test", "--model", W14, "--checkpoint", WrongCheckpoint, "--data", SeededCheckpoint.DemoDir,
                "--ann-file", Res2Net.Tests.Datasets.DatasetFixtures.AnnFile("seeded"), .. options];
        yield return new("shards", "--shard K not below N", dir => Test(dir, "--shard", "2/2", "--out", Path.Combine(dir, "part.json")),
            ["--shard 2/2: K counts from 0, so it must be below N (0 to 1)"], "part.json");
        yield return new("shards", "--shard not K/N", dir => Test(dir, "--shard", "half", "--out", Path.Combine(dir, "part.json")),
            ["--shard takes K/N", "got 'half'"], "part.json");
        yield return new("shards", "--shard without --out", dir => Test(dir, "--shard", "0/2"), ["give --out part-K.json"]);
        yield return new("shards", "--merge with --model",
            dir => ["test", "--merge", Part(dir, "p0.json", 0, 2), "--model", W14], ["--merge combines parts written by earlier runs", "leave out --model"]);
        yield return new("shards", "--merge of parts of two models",
            dir => ["test", "--merge", Part(dir, "p0.json", 0, 2), Part(dir, "p1.json", 1, 2, model: "res2net50-w26-s8_3rdparty_8xb32_in1k"), "--out", Path.Combine(dir, "all.json")],
            ["{dir}/p1.json and {dir}/p0.json are not parts of one run: their model differ"], "all.json");
        yield return new("shards", "--merge of parts of two checkpoints",
            dir => ["test", "--merge", Part(dir, "p0.json", 0, 2), Part(dir, "p1.json", 1, 2, sha: "ffff")], ["their checkpoint (sha256) differ (ffff and ab12)"]);
        yield return new("shards", "--merge of parts of different N",
            dir => ["test", "--merge", Part(dir, "p0.json", 0, 2), Part(dir, "p1.json", 1, 3)], ["their shard count N differ"]);
        yield return new("shards", "--merge of a shard twice",
            dir => ["test", "--merge", Part(dir, "p0.json", 0, 2), Part(dir, "again.json", 0, 2), Part(dir, "p1.json", 1, 2), "--out", Path.Combine(dir, "all.json")],
            ["{dir}/p0.json and {dir}/again.json are both shard 0/2"], "all.json");
        yield return new("shards", "--merge with a shard missing",
            dir => ["test", "--merge", Part(dir, "p0.json", 0, 3), Part(dir, "p2.json", 2, 3), "--out", Path.Combine(dir, "all.json")],
            ["shard 1 of 3 is missing"], "all.json");
        yield return new("shards", "--merge of a part cut short",
            dir => ["test", "--merge", Part(dir, "p0.json", 0, 2), Part(dir, "p1.json", 1, 2, samples: 1)], ["{dir}/p1.json does not hold the 2 images of shard 1/2"]);
        yield return new("shards", "--merge of a whole run",
            dir => ["test", "--merge", Part(dir, "p0.json", 0, 1, shard: false)], ["{dir}/p0.json is the result of a whole run, not of a shard"]);
        yield return new("shards", "--merge of a file that is not JSON",
            dir => ["test", "--merge", Write(dir, "p0.json", "model: w14\n"u8.ToArray())], ["{dir}/p0.json is not JSON"]);
        yield return new("shards", "--merge of JSON that is not a results file",
            dir => ["test", "--merge", Write(dir, "p0.json", "{\"model\": \"x\"}"u8.ToArray())], ["{dir}/p0.json is not a results file of 'res2net test'"]);
        yield return new("shards", "--merge of a part without its samples",
            dir => ["test", "--merge", Write(dir, "p0.json", "{\"model\": \"x\", \"checkpoint\": \"y\", \"layout\": \"ImageFolder\"}"u8.ToArray())],
            ["{dir}/p0.json: the document has no \"samples\""]);
        yield return new("shards", "--merge onto one of its parts",
            dir => ["test", "--merge", Part(dir, "p0.json", 0, 1), "--out", Path.Combine(dir, "p0.json")], ["{dir}/p0.json"]);
    }
}
