using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Res2Net.Cli;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.IO;
using Res2Net.Tests.Checkpoints;
using Xunit;

namespace Res2Net.Tests.Cli;

/// <summary>
/// Issue 13: no command may destroy a file it was not asked to write. Each writer (convert, export, predict
/// --save-logits and --features, test --out) refuses an output that is one of its inputs (also through a symbolic or
/// hard link), a folder, a device, or an existing file of another kind without --force, all before the work starts;
/// a full disk is exit 2 naming the file. Every refusal leaves the file byte-identical and no temporary file behind.
/// </summary>
public class OutputSafetyTests : IDisposable
{
    private const string W14 = SeededCheckpoint.Model;

    private static (int Code, string Out, string Err) Run(params string[] args) => CliTests.Run(args);

    private readonly List<string> _temporary = new();

    private string TempDir()
    {
        string dir = TempFolders.Create("res2net-output-").FullName;
        _temporary.Add(dir);
        return dir;
    }

    public void Dispose()
    {
        foreach (string dir in _temporary) Directory.Delete(dir, recursive: true);
    }

    /// <summary>A small checkpoint in safetensors (tiny-plain), the kind convert writes.</summary>
    internal static string SmallSafetensors(string dir, string name)
    {
        string path = Path.Combine(dir, name);
        SafetensorsWriter.Write(path, CheckpointReader.Read(Fixtures.Path("tiny-plain.pth")).Tensors, new Dictionary<string, string> { ["note"] = name });
        return path;
    }

    /// <summary>
    /// This class's own copy of the seeded 100 MB checkpoint: a writer that regressed to writing in place (as
    /// --save-logits did) would destroy it through a hard link, and must not take the other tests' file with it.
    /// </summary>
    private static readonly Lazy<string> SeededCopy = new(() =>
    {
        string dir = TempFolders.Create("res2net-seeded-copy-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(dir, recursive: true);
        string path = Path.Combine(dir, "seeded.safetensors");
        File.Copy(SeededCheckpoint.Path, path);
        return path;
    });

    /// <summary>A hard link to the seeded checkpoint (a copy of it): a second name for a file that fits W14, at no cost.</summary>
    internal static string LinkToSeeded(string dir, string name)
    {
        string path = Path.Combine(dir, name);
        if (Link(SeededCopy.Value, path) != 0) File.Copy(SeededCopy.Value, path); // another file system
        return path;
    }

    /// <summary>A preprocessed input of zeros: one [3, 224, 224] image (features named after the file), or a batch (NAME_i).</summary>
    internal static string Npy224(string dir, string name, int count = 1)
    {
        string path = Path.Combine(dir, name);
        Npy.Write(path, new float[count * 3 * 224 * 224], count == 1 ? new[] { 3, 224, 224 } : new[] { count, 3, 224, 224 });
        return path;
    }

    internal static byte[] Digest(string path) => SHA256.HashData(File.ReadAllBytes(path));

    /// <summary>Exit 2, one error line naming <paramref name="file"/>, the file as it was, and no temporary file in its folder.</summary>
    private static void AssertRefused((int Code, string Out, string Err) run, string file, byte[] digestBefore, params string[] phrases)
    {
        Assert.True(run.Code == CliApp.UserError, $"exit {run.Code}: {run.Err}");
        string line = Assert.Single(run.Err.Split('\n'), l => l.StartsWith("res2net: error: ", StringComparison.Ordinal));
        Assert.Contains(file, line);
        foreach (string phrase in phrases) Assert.Contains(phrase, line);
        Assert.Equal(digestBefore, Digest(file));
        AssertNoTemporaryFiles(Path.GetDirectoryName(file)!);
    }

    internal static void AssertNoTemporaryFiles(string dir) => Assert.Empty(Directory.GetFiles(dir, "*.partial"));

    public static TheoryData<string> InputSpellings => new() { "same path", "dotted path", "symbolic link", "hard link", "through a linked folder" };

    [Theory]
    [MemberData(nameof(InputSpellings))]
    public void ConvertRefusesAnOutputThatIsItsInputHoweverSpelled(string spelling)
    {
        string dir = TempDir();
        string input = SmallSafetensors(dir, "in.safetensors");
        string output = spelling switch
        {
            "same path" => input,
            "dotted path" => Path.Combine(dir, ".", "sub", "..", "in.safetensors"),
            "symbolic link" => File.CreateSymbolicLink(Path.Combine(dir, "link.safetensors"), input).FullName,
            "hard link" => Link(input, Path.Combine(dir, "hard.safetensors")) == 0 ? Path.Combine(dir, "hard.safetensors") : throw new IOException("link failed"),
            _ => Path.Combine(Directory.CreateSymbolicLink(Path.Combine(dir, "folder-link"), dir).FullName, "in.safetensors"),
        };
        byte[] before = Digest(input);
        bool wasLink = new FileInfo(output).LinkTarget != null;

        var run = Run("convert", input, output);

        AssertRefused(run, Path.GetFullPath(output), before, "is also an input of this command", "write the output elsewhere");
        Assert.Equal(wasLink, new FileInfo(output).LinkTarget != null);
        Assert.Equal(before, Digest(input));
    }

    [Fact]
    public void ExportRefusesToOverwriteItsCheckpoint()
    {
        string checkpoint = LinkToSeeded(TempDir(), "ck.pth");
        byte[] before = Digest(checkpoint);
        AssertRefused(Run("export", "--model", W14, "--checkpoint", checkpoint, "-o", checkpoint), checkpoint, before, "is also an input");
        AssertRefused(Run("export", "--model", W14, "--checkpoint", checkpoint, "-o", checkpoint, "--force"), checkpoint, before, "is also an input");
    }

    [Fact]
    public void PredictSaveLogitsRefusesToOverwriteTheCheckpoint()
    {
        string dir = TempDir();
        string checkpoint = LinkToSeeded(dir, "ck.safetensors");
        byte[] before = Digest(checkpoint);
        var run = Run("predict", Npy224(dir, "x.npy"), "--model", W14, "--checkpoint", checkpoint, "--save-logits", checkpoint);
        AssertRefused(run, checkpoint, before, "is also an input");
        Assert.Equal("", run.Out);
    }

    [Fact]
    public void PredictSaveLogitsRefusesToOverwriteAnInputImage()
    {
        string dir = TempDir();
        string input = Npy224(dir, "x.npy");
        byte[] before = Digest(input);
        AssertRefused(Run("predict", input, "--model", W14, "--checkpoint", LinkToSeeded(dir, "ck.safetensors"), "--save-logits", input), input, before, "is also an input");
    }

    [Fact]
    public void FeaturesRefuseToOverwriteTheCheckpointInTheirFolder()
    {
        // x.npy's layer4 map would be saved as x.layer4.npy: here that name is the checkpoint (formats are found by content, not name).
        string dir = TempDir();
        string checkpoint = LinkToSeeded(dir, "x.layer4.npy");
        byte[] before = Digest(checkpoint);
        string[] args = ["predict", Npy224(dir, "x.npy"), "--model", W14, "--checkpoint", checkpoint, "--features", dir, "--out-indices", "4"];
        AssertRefused(Run(args), checkpoint, before, "is also an input");
        AssertRefused(Run([.. args, "--force"]), checkpoint, before, "is also an input");
        Assert.Equal(["x.layer4.npy", "x.npy"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void FeaturesRefuseToOverwriteAnotherFileWithoutForce()
    {
        string dir = TempDir();
        string other = Path.Combine(dir, "x.layer4.npy");
        File.WriteAllText(other, "someone's notes, not an array\n");
        byte[] before = Digest(other);
        var run = Run("predict", Npy224(dir, "x.npy"), "--model", W14, "--checkpoint", SeededCheckpoint.Path, "--features", dir, "--out-indices", "4");
        AssertRefused(run, other, before, "already exists and is not a .npy array", "--force");
    }

    [Fact]
    public void SaveLogitsThatIsAlsoAFeatureFileIsRefused()
    {
        string dir = TempDir();
        string logits = Path.Combine(dir, "x.layer4.npy");
        var (code, _, err) = Run("predict", Npy224(dir, "x.npy"), "--model", W14, "--checkpoint", SeededCheckpoint.Path,
            "--features", dir, "--out-indices", "4", "--save-logits", logits);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"--save-logits {logits} is also a file that --features writes", err);
        Assert.Equal(["x.npy"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void TestOutRefusesToOverwriteADatasetImage()
    {
        string dir = TempDir();
        string image = Path.Combine(dir, "dog.jpg");
        File.Copy(Path.Combine(SeededCheckpoint.DemoDir, "dog.jpg"), image);
        string ann = Path.Combine(dir, "val.txt");
        File.WriteAllText(ann, "dog.jpg 95\n");
        byte[] before = Digest(image);
        string[] args = ["test", "--model", W14, "--checkpoint", SeededCheckpoint.Path, "--data", dir, "--ann-file", ann, "--out", image];

        AssertRefused(Run(args), image, before, "is also an input");
        AssertRefused(Run([.. args, "--force"]), image, before, "is also an input");
        AssertRefused(Run([.. args[..^1], ann, "--force"]), ann, Digest(ann), "is also an input");
    }

    [Fact]
    public void TestOutReplacesAnEarlierResultsFile()
    {
        string results = Path.Combine(TempDir(), "results.json");
        File.WriteAllText(results, "{\n  \"model\": \"an earlier run\",\n  \"checkpoint\": \"x.pth\"\n}\n");
        string ann = Path.Combine(TempDir(), "val.txt");
        File.WriteAllText(ann, "bird.JPEG 95\n");
        var (code, _, err) = Run("test", "--model", W14, "--checkpoint", SeededCheckpoint.Path, "--data", SeededCheckpoint.DemoDir, "--ann-file", ann, "--out", results);
        Assert.True(code == 0, err);
        Assert.Contains($"\"model\": \"{W14}\"", File.ReadAllText(results));
        AssertNoTemporaryFiles(Path.GetDirectoryName(results)!);
    }

    [Fact]
    public void AStaleLinkAtTheOldPartialNameIsNeitherFollowedNorTouched()
    {
        // Writers used to open OUT.partial with FileMode.Create, which follows a symbolic link planted there.
        string dir = TempDir();
        string victim = Path.Combine(dir, "victim.txt");
        File.WriteAllText(victim, "must survive\n");
        string output = Path.Combine(dir, "out.safetensors");
        File.CreateSymbolicLink(output + ".partial", victim);

        var (code, _, err) = Run("convert", Fixtures.Path("tiny-plain.pth"), output);

        Assert.True(code == 0, err);
        Assert.Equal("must survive\n", File.ReadAllText(victim));
        Assert.Equal(victim, new FileInfo(output + ".partial").LinkTarget);
        Assert.Equal(CheckpointFormat.Safetensors, CheckpointReader.Read(output).Format);
    }

    [Fact]
    public void AFolderAsOutputIsRefusedBeforeTheWork()
    {
        string dir = TempDir();
        var (code, output, err) = Run("export", "--model", W14, "--seeded", "-o", dir);
        Assert.Equal(CliApp.UserError, code);
        Assert.Equal($"res2net: error: {dir}: is a folder; give a file name\n", err);
        Assert.Equal("", output);

        string folder = Directory.CreateDirectory(Path.Combine(dir, "out.safetensors")).FullName;
        (code, _, err) = Run("convert", Fixtures.Path("tiny-plain.pth"), folder);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"{folder}: is a folder", err);
        Assert.Empty(Directory.GetFileSystemEntries(folder));
    }

    [Fact]
    public void AMissingFolderIsRefusedBeforeTheWork()
    {
        string output = Path.Combine(TempDir(), "missing", "logits.npy");
        var (code, _, err) = Run("predict", Npy224(TempDir(), "x.npy"), "--model", W14, "--checkpoint", Fixtures.Path("tiny-plain.pth"), "--save-logits", output);
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"{output}: cannot write: folder {Path.GetDirectoryName(output)} does not exist", err);
        Assert.DoesNotContain("checkpoint:", err); // refused before the checkpoint was loaded
    }

    [Fact]
    public void AnotherKindOfFileIsReplacedOnlyWithForce()
    {
        string dir = TempDir();
        string output = Path.Combine(dir, "out.safetensors");
        File.WriteAllText(output, "not a checkpoint\n");
        byte[] before = Digest(output);

        AssertRefused(Run("convert", Fixtures.Path("tiny-plain.pth"), output), output, before,
            "already exists and is not a safetensors file; it was left alone. Pass --force to replace it");

        var (code, _, err) = Run("convert", Fixtures.Path("tiny-plain.pth"), output, "--force");
        Assert.True(code == 0, err);
        Assert.Equal(CheckpointFormat.Safetensors, CheckpointReader.Read(output).Format);
        AssertNoTemporaryFiles(dir);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void AFileOfTheSameKindIsReplacedAndKeepsItsPermissions()
    {
        string dir = TempDir();
        string output = SmallSafetensors(dir, "out.safetensors");
        File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var (code, _, err) = Run("convert", Samples.Path("tiny-plain.official.legacy.pth"), output);

        Assert.True(code == 0, err);
        using (var file = CheckpointFile.Open(output)) Assert.Equal("tiny-plain.official.legacy.pth", file.Metadata["source"]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(output));
        Assert.Equal(["out.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void ASymbolicLinkAsOutputIsReplacedOnlyWithForceAndItsTargetIsKept()
    {
        string dir = TempDir();
        string target = SmallSafetensors(dir, "kept.safetensors");
        byte[] before = Digest(target);
        string output = File.CreateSymbolicLink(Path.Combine(dir, "out.safetensors"), target).FullName;

        AssertRefused(Run("convert", Fixtures.Path("tiny-plain.pth"), output), output, before, "is a symbolic link", "--force");

        var (code, _, err) = Run("convert", Fixtures.Path("tiny-plain.pth"), output, "--force");
        Assert.True(code == 0, err);
        Assert.Null(new FileInfo(output).LinkTarget);
        Assert.Equal(before, Digest(target));
    }

    [Fact]
    public void APipeIsNeverReplaced()
    {
        string fifo = Path.Combine(TempDir(), "out.safetensors");
        Assert.Equal(0, MakeFifo(fifo, 0x1B6));
        var (code, _, err) = Run("convert", Fixtures.Path("tiny-plain.pth"), fifo, "--force");
        Assert.Equal(CliApp.UserError, code);
        Assert.Contains($"{fifo}: is not a regular file", err);
        Assert.Equal(FileKind.Other, FileIdentity.Of(fifo)?.Kind); // still the pipe
        AssertNoTemporaryFiles(Path.GetDirectoryName(fifo)!);
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    internal static extern int Link(string existing, string newPath);

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    internal static extern int MakeFifo(string path, uint mode);
}
