using System.CommandLine;

namespace Res2Net.Cli.Commands;

/// <summary>
/// <c>--force</c>, shared by the commands that write files. Without it an existing output is replaced only when it is
/// already a file of the kind the command writes (<see cref="Res2Net.Runtime.IO.OutputPath.Check(string, Res2Net.Runtime.IO.OutputKind, bool, Res2Net.Runtime.IO.InputFiles)"/>).
/// </summary>
internal static class OutputOptions
{
    public static Option<bool> Force() => new("--force")
    {
        Description = "Replace output files that exist but are not of the kind written (a file of the same kind is replaced without it). " +
                      "An input, a folder or a device is never replaced.",
    };
}
