using System.CommandLine;
using Res2Net.Cli.Commands;
using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Datasets;
using Res2Net.Runtime.Download;
using Res2Net.Runtime.Imaging;
using Res2Net.Runtime.IO;
using Res2Net.Runtime.Networks;

namespace Res2Net.Cli;

/// <summary>The <c>res2net</c> command line: the commands, and one place that turns failures into messages and exit codes.</summary>
public static class CliApp
{
    /// <summary>Exit code for bad input (command line, file, model name, checkpoint, limits): the user can fix it.</summary>
    public const int UserError = 2;

    /// <summary>Exit code for a failure the program did not expect, i.e. a bug: sysexits.h's EX_SOFTWARE.</summary>
    public const int InternalError = 70;

    /// <summary>Set to 1 to print the stack trace of an internal error.</summary>
    public const string DebugVariable = "RES2NET_DEBUG";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand(
            "Res2Net for .NET: networks compiled from networks/*.json into shape-specialized C#, run on mmpretrain checkpoints.")
        {
            PredictCommand.Create(stdout),
            InfoCommand.Create(stdout),
            ExportCommand.Create(stdout),
            ConvertCommand.Create(stdout),
            InspectCommand.Create(stdout),
            BenchCommand.Create(stdout),
            TestCommand.Create(stdout, stderr),
            CamCommand.Create(stdout),
            ServeCommand.Create(stdout),
        };
        var parse = root.Parse(args);
        if (UsageError.Find(parse) is { } usage)
        {
            stderr.WriteLine($"res2net: error: {Printable(usage.Message)}");
            stderr.WriteLine(usage.Usage);
            return UserError;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return Report(e, stderr);
        }
    }

    /// <summary>
    /// Writes <paramref name="e"/> as one line and returns the exit code: <see cref="UserError"/> for what the user can
    /// fix; otherwise <see cref="InternalError"/>, saying so, with the stack trace only under <see cref="DebugVariable"/>=1
    /// (a user gets no .NET stack dump, but a bug is not passed off as bad input either).
    /// </summary>
    internal static int Report(Exception e, TextWriter stderr)
    {
        if (IsUserError(e))
        {
            stderr.WriteLine($"res2net: error: {Printable(e.Message)}");
            return UserError;
        }
        if (e is OutOfMemoryException)
        {
            // Every input is bounded (CliLimits, the readers' own limits), so this is the machine being smaller than the work asked.
            stderr.WriteLine($"res2net: error: out of memory ({e.Message}); a smaller --batch-size or --batch, or fewer --threads, needs less.");
            return UserError;
        }
        string message = DisplayText.Escape(e.Message.ReplaceLineEndings(" "));   // it may quote file contents
        stderr.WriteLine($"res2net: internal error: {e.GetType().FullName}: {message} (please report this, with the command line; " +
                         $"{DebugVariable}=1 shows the stack trace)");
        if (Environment.GetEnvironmentVariable(DebugVariable) == "1") stderr.WriteLine(e);
        return InternalError;
    }

    /// <summary>
    /// A message as the terminal may show it: each of its lines escaped (<see cref="DisplayText"/>). Our own exceptions
    /// escape what they quote from files already (escaping again changes nothing); .NET's own, such as
    /// <see cref="FileNotFoundException"/>, and <see cref="CliException"/> quote paths as they are, and a path may hold ESC.
    /// </summary>
    internal static string Printable(string message) =>
        string.Join(Environment.NewLine, message.Replace("\r\n", "\n").Split('\n').Select(line => DisplayText.Escape(line)));

    /// <summary>The exceptions that mean bad input or an unusable environment (a missing file, a full disk), not a bug.</summary>
    private static bool IsUserError(Exception e) =>
        e is CliException or CheckpointException or StateDictMismatchException or UnknownModelException or CheckpointDownloadException
            or ImageDecodeException or DatasetException
            or InvalidDataException or IOException or UnauthorizedAccessException;   // IOException: NpyException, OutputFileException, FileNotFound, disk full
}

/// <summary>A problem with what the user asked for; its message says what to do.</summary>
public sealed class CliException(string message) : Exception(message);
