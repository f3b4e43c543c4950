using System.Runtime.InteropServices;
using Res2Net.Runtime.IO;
using Xunit;

namespace Res2Net.Tests.IO;

/// <summary>
/// The temporary file every writer and the checkpoint download go through: created exclusively (never through a file
/// or symlink planted under its name), renamed over the target only on commit, and on a signal either left to its
/// owner (inside a cancelling scope, the download's) or deleted (when the signal ends the process). The signal tests
/// call the one handler directly with a context of their own; they run alone, since the handler acts on the whole
/// process's temporary files and scopes.
/// </summary>
[Collection(ProcessEnvironment.Name)]
public class AtomicFileWriterTests : IDisposable
{
    private readonly string _dir = TempFolders.Create("res2net-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheTemporaryFileIsCreatedExclusivelyAndNeverThroughASymlink()
    {
        string victim = Path.Combine(TempFolders.Create("res2net-victim-").FullName, "victim");
        File.WriteAllText(victim, "keep me");
        string target = Path.Combine(_dir, "model.pth");
        File.CreateSymbolicLink($"{target}.planted.partial", victim);
        var names = new Queue<string>(["planted", "fresh"]);

        using (var writer = AtomicFileWriter.Create(target, names.Dequeue))
        {
            Assert.Equal($"{target}.fresh.partial", writer.TemporaryPath);
            writer.Stream.Write("new"u8);
        }

        Assert.Equal("keep me", File.ReadAllText(victim));
        Assert.Equal([$"{target}.planted.partial"], Directory.GetFileSystemEntries(_dir));
        Directory.Delete(Path.GetDirectoryName(victim)!, recursive: true);
    }

    [Fact]
    public void TheTemporaryFileBecomesTheTargetOnlyWhenCommitted()
    {
        string target = Path.Combine(_dir, "model.pth");
        File.WriteAllText(target, "old");

        using (var writer = AtomicFileWriter.Create(target))
        {
            Assert.StartsWith(target + ".", writer.TemporaryPath);
            Assert.EndsWith(".partial", writer.TemporaryPath);
            writer.Stream.Write("new"u8);
            Assert.Equal("old", File.ReadAllText(target));
            writer.Commit();
        }

        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal([target], Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void ASignalInACancellingScopeCancelsItAndLeavesTheFileToItsWriter()
    {
        string target = Path.Combine(_dir, "model.pth");
        using var writer = AtomicFileWriter.Create(target);
        writer.Stream.Write("downloaded"u8);
        using var scope = InterruptSignals.CancelOnSignal();

        var sigint = new PosixSignalContext(PosixSignal.SIGINT);
        InterruptSignals.Handle(sigint);

        Assert.True(sigint.Cancel, "the process must go on to clean up");
        Assert.True(scope.Token.IsCancellationRequested);
        Assert.Equal(2, scope.Signal);
        // The writer still owns its file: it may finish (a download that was complete when the signal came) or delete it.
        writer.Commit();
        Assert.Equal("downloaded", File.ReadAllText(target));
    }

    [Theory]
    [InlineData(PosixSignal.SIGTERM, false)] // no scope open: the signal ends the process
    [InlineData(PosixSignal.SIGTERM, true)] // a second signal while the scope cleans up
    [InlineData(PosixSignal.SIGQUIT, false)]
    public void ASignalThatEndsTheProcessDeletesTheTemporaryFiles(PosixSignal signal, bool secondSignalInScope)
    {
        using var writer = AtomicFileWriter.Create(Path.Combine(_dir, "model.pth"));
        writer.Stream.Write("part"u8);
        writer.Stream.Flush();
        using var scope = secondSignalInScope ? InterruptSignals.CancelOnSignal() : null;
        if (scope != null) InterruptSignals.Handle(new PosixSignalContext(PosixSignal.SIGINT));

        var context = new PosixSignalContext(signal);
        InterruptSignals.Handle(context);

        Assert.False(context.Cancel, "the signal's own ending must follow");
        Assert.False(File.Exists(writer.TemporaryPath));
    }
}
